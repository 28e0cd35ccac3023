import http2 from 'node:http2';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { ProcessorServiceDefinition, SubmitJobResponse, frameGrpcMessage } from '@artorizer/contract';
import { TIMER_MAX_MS } from '@artorizer/service-kit';
import { Processor } from '../core/processor';
import { Logger } from '../logger';
import { toStatus } from './errors';
import { receiveUpload } from './handlers/submit-job';
import { readSubmitJob } from './submit-job-frames';

/**
 * SubmitJob served straight off the HTTP/2 stream, beside grpc-js on the same server: the
 * image's bytes go from the DATA frames to the file as they arrived (`submit-job-frames`),
 * instead of being gathered into a fresh buffer per message first. Everything else on the
 * port, and any SubmitJob this module does not take (compressed, or not a gRPC POST), is
 * grpc-js's, its checks and errors included.
 */

export const SUBMIT_JOB_PATH = ProcessorServiceDefinition.submitJob.path;

const RESPONSE_HEADERS = {
  ':status': 200,
  'content-type': 'application/grpc+proto',
  'grpc-accept-encoding': 'identity,deflate,gzip',
  'grpc-encoding': 'identity',
};

const TIMEOUT_UNIT_MS: Record<string, number> = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 0.001, n: 0.000001 };

/**
 * `grpc-timeout` in milliseconds (read as grpc-js reads it), at most what a timer can wait
 * (a longer delay would fire at once); undefined when absent, null when unreadable.
 */
export function timeoutMs(header: string | string[] | undefined): number | undefined | null {
  if (header === undefined) return undefined;
  const match = /(\d{1,8})\s*([HMSmun])/.exec(String(header));
  return match ? Math.min(Number(match[1]) * TIMEOUT_UNIT_MS[match[2]], TIMER_MAX_MS) : null;
}

/** Whether this stream is a SubmitJob this module serves: a gRPC POST with uncompressed messages. */
export function takesStream(headers: http2.IncomingHttpHeaders): boolean {
  const type = headers['content-type'];
  const encoding = headers['grpc-encoding'];
  return (
    headers[':path'] === SUBMIT_JOB_PATH && headers[':method'] === 'POST' && typeof type === 'string' && type.startsWith('application/grpc') && (encoding === undefined || encoding === 'identity')
  );
}

/** The answer of one SubmitJob stream: a message then OK, or a status alone; whichever comes first, once. */
class Answer {
  private sent = false;

  constructor(
    private readonly stream: http2.ServerHttp2Stream,
    /** Called once answered: nothing reads the request after that. */
    private readonly answered: () => void,
  ) {}

  get done(): boolean {
    return this.sent || this.stream.closed || this.stream.destroyed;
  }

  ok(response: SubmitJobResponse): void {
    if (this.done) return;
    this.sent = true;
    this.answered();
    this.stream.respond(RESPONSE_HEADERS, { waitForTrailers: true });
    this.stream.once('wantTrailers', () => this.stream.sendTrailers({ 'grpc-status': String(GrpcStatus.OK), 'grpc-message': '' }));
    this.stream.end(frameGrpcMessage(SubmitJobResponse.encode(response).finish()));
  }

  /** A trailers-only answer, as grpc-js gives one: the status in the response headers. */
  fail(code: GrpcStatus, details: string): void {
    if (this.done) return;
    this.sent = true;
    this.answered();
    this.stream.respond({ ...RESPONSE_HEADERS, 'grpc-status': String(code), 'grpc-message': encodeURI(details) }, { endStream: true });
  }
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** The handler of SubmitJob streams that `takesStream` accepted. */
export function serveSubmitJob(processor: Processor, log: Logger, maxMessageBytes: number): (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => void {
  return (stream, headers) => {
    const requestId = headerValue(headers['x-request-id']);
    const request = readSubmitJob(stream, maxMessageBytes);
    const answer = new Answer(stream, request.discard);
    const aborted = new AbortController();
    // a reset or a broken connection also closes the stream, which is what ends the upload
    stream.on('error', () => undefined);
    const deadlineMs = timeoutMs(headers['grpc-timeout']);
    if (deadlineMs === null) {
      answer.fail(GrpcStatus.INTERNAL, `Invalid grpc-timeout value "${String(headers['grpc-timeout'])}"`);
      return;
    }
    let deadlinePassed = false;
    // the status goes once the upload has been given up and its file removed
    const deadline =
      deadlineMs === undefined
        ? undefined
        : setTimeout(() => {
            deadlinePassed = true;
            aborted.abort();
          }, deadlineMs);
    stream.once('close', () => {
      clearTimeout(deadline);
      aborted.abort();
    });
    receiveUpload(processor, request.items, aborted.signal).then(
      (job) => {
        clearTimeout(deadline);
        log.info({ rpc: 'SubmitJob', jobId: job.jobId, requestId }, 'job accepted');
        answer.ok({ job });
      },
      (err: unknown) => {
        clearTimeout(deadline);
        if (answer.done) return;
        const status = deadlinePassed ? { code: GrpcStatus.DEADLINE_EXCEEDED, details: 'Deadline exceeded' } : toStatus(err, log, { rpc: 'SubmitJob', requestId });
        answer.fail(status.code, status.details);
      },
    );
  };
}

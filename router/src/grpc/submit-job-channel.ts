import http2 from 'node:http2';
import { ServiceError, status as GrpcStatus } from '@grpc/grpc-js';
import { GRPC_FRAME_HEADER_BYTES, ProcessorServiceDefinition, SubmitJobRequest, SubmitJobResponse, frameSubmitJobRequest } from '@artorizer/contract';
import { GrpcTls } from '@artorizer/service-kit';
import { serviceError } from './service-error';

/**
 * SubmitJob, the router's one call per upload, spoken over Node's HTTP/2 client directly.
 *
 * grpc-js takes its time per call: on a warm channel about 0.9 ms from `submitJob()` to the
 * first bytes on the socket (resolving call, load-balancing call, filters, subchannel call), and
 * its calls' JS was the largest share of the router's CPU for small uploads. A client-streaming
 * call is a few lines of the gRPC protocol over HTTP/2: a POST with `content-type:
 * application/grpc`, length-prefixed messages, and the status in the trailers (or in the
 * headers, for an answer without a body). Everything else the router asks of processors stays on
 * grpc-js; so do uploads to a DNS name, which grpc-js balances.
 */

/** The write side of an upload call, as the stream relay uses it (a grpc-js ClientWritableStream is one too). */
export interface UploadCall {
  /** `sent` runs once the bytes are on the socket (or the call failed): a chunk buffer may be reused then. */
  write(message: SubmitJobRequest, sent?: (error?: Error | null) => void): unknown;
  end(): void;
  /** Resets the stream (CANCEL): the processor drops the upload. */
  cancel(): void;
  readonly writableEnded: boolean;
  readonly destroyed: boolean;
}

export interface UploadOptions {
  metadata: Record<string, string>;
  deadlineMs: number;
  /** The call's final status, once known (null for OK). */
  onStatus?: (err: ServiceError | null) => void;
}

const PATH = ProcessorServiceDefinition.submitJob.path;
/** A ping after this long with calls open, and the connection dropped when it is not answered in time (the grpc-js channels' options too). */
export const KEEPALIVE_MS = 60_000;
export const KEEPALIVE_TIMEOUT_MS = 20_000;
/** The largest message the router takes from a processor (the grpc-js channels' `grpc.max_receive_message_length` too). */
export const MAX_RECEIVE_MESSAGE_BYTES = 8 * 1024 * 1024;

/** `grpc-timeout`: at most 8 digits and a unit. */
export function grpcTimeout(ms: number): string {
  const whole = Math.max(0, Math.ceil(ms));
  return whole < 1e8 ? `${whole}m` : `${Math.ceil(whole / 1000)}S`;
}

/** The status an HTTP/2 stream reset carries, as grpc-js reads it. */
function resetStatus(rstCode: number): { code: GrpcStatus; details: string } {
  const c = http2.constants;
  if (rstCode === c.NGHTTP2_REFUSED_STREAM) return { code: GrpcStatus.UNAVAILABLE, details: 'the processor refused the stream' };
  if (rstCode === c.NGHTTP2_CANCEL) return { code: GrpcStatus.CANCELLED, details: 'call cancelled' };
  // an overloaded connection, not an image too large (what RESOURCE_EXHAUSTED says to the router's clients): retry later
  if (rstCode === c.NGHTTP2_ENHANCE_YOUR_CALM) return { code: GrpcStatus.UNAVAILABLE, details: 'the connection to the processor is overloaded (ENHANCE_YOUR_CALM)' };
  if (rstCode === c.NGHTTP2_INADEQUATE_SECURITY) return { code: GrpcStatus.PERMISSION_DENIED, details: 'protocol not secure enough' };
  return { code: GrpcStatus.INTERNAL, details: `received RST_STREAM with code ${rstCode}` };
}

/** gRPC's mapping of an HTTP status that is not 200 (the answer did not come from a gRPC server). */
function httpStatusCode(status: number): GrpcStatus {
  if (status === 400) return GrpcStatus.INTERNAL;
  if (status === 401) return GrpcStatus.UNAUTHENTICATED;
  if (status === 403) return GrpcStatus.PERMISSION_DENIED;
  if (status === 404) return GrpcStatus.UNIMPLEMENTED;
  if (status === 429 || status === 502 || status === 503 || status === 504) return GrpcStatus.UNAVAILABLE;
  return GrpcStatus.UNKNOWN;
}

function statusFrom(headers: http2.IncomingHttpHeaders): ServiceError | null {
  const code = Number(headers['grpc-status']);
  if (code === GrpcStatus.OK) return null;
  const raw = headers['grpc-message'];
  let details = typeof raw === 'string' ? raw : '';
  try {
    details = decodeURIComponent(details);
  } catch {
    // not percent-encoded after all: shown as sent
  }
  return serviceError(Number.isInteger(code) && code in GrpcStatus ? code : GrpcStatus.UNKNOWN, details);
}

/** The answer's first message, read from the length-prefixed bytes as they arrive. */
class FirstMessage {
  private pieces: Buffer[] = [];
  private bytes = 0;

  /** The message once it is whole; undefined before. Throws when its prefix announces more than MAX_RECEIVE_MESSAGE_BYTES. */
  push(piece: Buffer): Buffer | undefined {
    this.pieces.push(piece);
    this.bytes += piece.length;
    if (this.bytes < GRPC_FRAME_HEADER_BYTES) return undefined;
    const all = this.pieces.length === 1 ? this.pieces[0] : Buffer.concat(this.pieces);
    this.pieces = [all];
    const length = all.readUInt32BE(1);
    if (length > MAX_RECEIVE_MESSAGE_BYTES) throw new Error(`it announces ${length} bytes, more than the ${MAX_RECEIVE_MESSAGE_BYTES} taken`);
    if (all.length < GRPC_FRAME_HEADER_BYTES + length) return undefined;
    return all.subarray(GRPC_FRAME_HEADER_BYTES, GRPC_FRAME_HEADER_BYTES + length);
  }
}

class Http2UploadCall implements UploadCall {
  private status?: ServiceError | null;

  constructor(
    private readonly stream: http2.ClientHttp2Stream,
    private readonly session: http2.ClientHttp2Session,
    private readonly onStatus: (err: ServiceError | null) => void,
  ) {}

  get writableEnded(): boolean {
    return this.stream.writableEnded;
  }

  get destroyed(): boolean {
    return this.stream.destroyed;
  }

  write(message: SubmitJobRequest, sent?: (error?: Error | null) => void): boolean {
    if (this.stream.destroyed || this.stream.writableEnded) {
      if (sent) process.nextTick(sent, serviceError(GrpcStatus.CANCELLED, 'write after the call ended'));
      return false;
    }
    return this.stream.write(frameSubmitJobRequest(message), sent);
  }

  end(): void {
    if (!this.stream.destroyed) this.stream.end();
  }

  cancel(): void {
    this.settle(serviceError(GrpcStatus.CANCELLED, 'Cancelled on client'));
    if (!this.stream.destroyed) this.stream.close(http2.constants.NGHTTP2_CANCEL);
  }

  /** The first status wins: a trailer, a reset, a lost connection, the deadline or a cancel. */
  settle(status: ServiceError | null): void {
    if (this.status !== undefined) return;
    this.status = status;
    this.onStatus(status);
  }

  /**
   * The stream closed: without a status so far, a reset from the processor (its code says
   * which) or a connection that failed or dropped (UNAVAILABLE, the client may retry).
   */
  closed(error: Error | undefined): void {
    if (this.status !== undefined) return;
    const rst = this.stream.rstCode;
    // streams of a connection that went away close with a local code (CANCEL, NO_ERROR), which the processor did not send
    if (this.session.destroyed) {
      const why = error && (error as { code?: string }).code !== 'ERR_HTTP2_STREAM_ERROR' ? `failed: ${error.message}` : 'closed before the call ended';
      this.settle(serviceError(GrpcStatus.UNAVAILABLE, `the connection to the processor ${why}`));
    } else if (rst !== undefined && rst !== http2.constants.NGHTTP2_NO_ERROR) {
      const { code, details } = resetStatus(rst);
      this.settle(serviceError(code, details));
    } else {
      this.settle(serviceError(GrpcStatus.UNAVAILABLE, `the processor ended the call without a status${error ? `: ${error.message}` : ''}`));
    }
  }
}

/**
 * SubmitJob calls to one processor address over one HTTP/2 connection, opened on first use and
 * again after it closes (the processor restarted, went away, or sent GOAWAY).
 */
export class SubmitJobChannel {
  private session?: http2.ClientHttp2Session;
  private active = 0;
  private keepalive?: NodeJS.Timeout;
  private closed = false;

  constructor(
    private readonly address: string,
    private readonly tls: GrpcTls | undefined,
  ) {}

  /**
   * Opens a call. `answer` resolves with the processor's answer as soon as its message has
   * arrived (the trailers come later and only feed `onStatus`), and rejects with the call's
   * status when it fails.
   */
  open(options: UploadOptions): { call: UploadCall; answer: Promise<SubmitJobResponse> } {
    const { stream, session } = this.request({
      ':method': 'POST',
      ':path': PATH,
      'content-type': 'application/grpc',
      te: 'trailers',
      'grpc-timeout': grpcTimeout(options.deadlineMs),
      'user-agent': 'artorizer-router',
      ...options.metadata,
    });
    let resolve!: (res: SubmitJobResponse) => void;
    let reject!: (err: ServiceError) => void;
    const answer = new Promise<SubmitJobResponse>((ok, fail) => ((resolve = ok), (reject = fail)));
    let answered = false;
    const call = new Http2UploadCall(stream, session, (err) => {
      options.onStatus?.(err);
      // after an answer, a later status only feeds onStatus
      if (err) reject(err);
      else if (!answered) reject(serviceError(GrpcStatus.INTERNAL, 'the processor ended SubmitJob with OK and no answer'));
    });
    this.track(stream);
    const deadline = setTimeout(() => {
      call.settle(serviceError(GrpcStatus.DEADLINE_EXCEEDED, 'Deadline exceeded'));
      if (!stream.destroyed) stream.close(http2.constants.NGHTTP2_CANCEL);
    }, options.deadlineMs).unref();
    const first = new FirstMessage();
    stream.on('response', (headers) => {
      const status = Number(headers[':status']);
      if (status !== 200) call.settle(serviceError(httpStatusCode(status), `the processor answered HTTP ${status}`));
      else if (headers['grpc-status'] !== undefined) call.settle(statusFrom(headers));
    });
    stream.on('data', (piece: Buffer) => {
      if (answered) return;
      try {
        const message = first.push(piece);
        if (!message) return;
        answered = true;
        resolve(SubmitJobResponse.decode(message));
      } catch (err) {
        answered = true;
        call.settle(serviceError(GrpcStatus.INTERNAL, `the processor's answer could not be taken: ${(err as Error).message}`));
        stream.close(http2.constants.NGHTTP2_CANCEL);
      }
    });
    stream.on('trailers', (trailers) => call.settle(statusFrom(trailers)));
    let failure: Error | undefined;
    stream.on('error', (err) => (failure = err));
    stream.on('close', () => {
      clearTimeout(deadline);
      call.closed(failure);
    });
    return { call, answer };
  }

  close(): void {
    this.closed = true;
    this.drop(this.session);
  }

  /** A new stream; once more on a new connection when the current one can no longer open streams (it just received GOAWAY or closed). */
  private request(headers: http2.OutgoingHttpHeaders): { stream: http2.ClientHttp2Stream; session: http2.ClientHttp2Session } {
    let session = this.connection();
    try {
      return { stream: session.request(headers), session };
    } catch {
      // not destroyed: the calls it still carries finish on it, as after a GOAWAY
      this.drop(session, false);
      session = this.connection();
      return { stream: session.request(headers), session };
    }
  }

  private connection(): http2.ClientHttp2Session {
    if (this.closed) throw serviceError(GrpcStatus.UNAVAILABLE, 'the processor pool is closed');
    if (this.session && !this.session.closed && !this.session.destroyed) return this.session;
    const authority = `${this.tls ? 'https' : 'http'}://${this.address}`;
    const session = http2.connect(authority, {
      ...(this.tls ? { ca: this.tls.ca, cert: this.tls.identity?.cert, key: this.tls.identity?.key } : {}),
      // Node's default (10 MB) counts the chunks queued for the socket: with a few uploads at once
      // a processor's answer then arrives over it and Node resets that stream (ENHANCE_YOUR_CALM);
      // what the connection holds is bounded by the processor's windows. grpc-js lifts it too.
      maxSessionMemory: Number.MAX_SAFE_INTEGER,
    });
    // failures reach the calls as their streams close; a session error has no one else to tell
    session.on('error', () => undefined);
    session.on('goaway', () => this.drop(session, false));
    session.on('close', () => this.drop(session));
    session.unref();
    this.session = session;
    return session;
  }

  /** Stops using a session for new calls; `destroy` also ends it (its calls fail UNAVAILABLE). */
  private drop(session: http2.ClientHttp2Session | undefined, destroy = true): void {
    if (!session) return;
    if (this.session === session) this.session = undefined;
    if (destroy && !session.destroyed) session.destroy();
  }

  /** Pings the processor while calls are open, as grpc-js does: a peer that stopped answering fails its calls. */
  private track(stream: http2.ClientHttp2Stream): void {
    if (this.active++ === 0) this.keepalive = setInterval(() => this.ping(), KEEPALIVE_MS).unref();
    stream.once('close', () => {
      if (--this.active === 0) this.stopKeepalive();
    });
  }

  private ping(): void {
    const session = this.session;
    if (!session) return;
    const timeout = setTimeout(() => this.drop(session), KEEPALIVE_TIMEOUT_MS).unref();
    try {
      session.ping((err) => {
        clearTimeout(timeout);
        if (err) this.drop(session);
      });
    } catch {
      clearTimeout(timeout);
      this.drop(session);
    }
  }

  private stopKeepalive(): void {
    if (this.keepalive) clearInterval(this.keepalive);
    this.keepalive = undefined;
  }
}

import { handleClientStreamingCall } from '@grpc/grpc-js';
import { Job, SubmitJobRequest, SubmitJobResponse } from '@artorizer/contract';
import { cancelled, invalidArgument } from '../../core/errors';
import { Processor } from '../../core/processor';
import { Logger } from '../../logger';
import { requestId, toStatus } from '../errors';
import { UploadItem } from '../submit-job-frames';

type Items = AsyncIterator<UploadItem>;

/** Resolves with the next item, or rejects as soon as the client cancels. */
function nextOrCancel(items: Items, signal: AbortSignal): Promise<IteratorResult<UploadItem>> {
  if (signal.aborted) return Promise.reject(cancelled('client cancelled the upload'));
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(cancelled('client cancelled the upload'));
    signal.addEventListener('abort', onAbort, { once: true });
    items.next().then(
      (result) => {
        signal.removeEventListener('abort', onAbort);
        resolve(result);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}

async function* imageChunks(items: Items, signal: AbortSignal): AsyncGenerator<Uint8Array | readonly Uint8Array[]> {
  for (;;) {
    const next = await nextOrCancel(items, signal);
    if (next.done) return;
    const item = next.value;
    if ('pieces' in item) {
      yield item.pieces;
      continue;
    }
    const payload = item.message.payload;
    if (payload?.$case === 'spec') throw invalidArgument('a second spec was sent; the spec must be sent once, first');
    if (payload?.$case === 'abort') throw cancelled(`client aborted the upload${payload.abort.reason ? `: ${payload.abort.reason}` : ''}`);
    if (payload?.$case === 'chunk') yield payload.chunk;
  }
}

/** One upload, whichever server read it: a spec first, then the image, written to disk as it arrives. */
export async function receiveUpload(processor: Processor, items: Items, signal: AbortSignal): Promise<Job> {
  const first = await nextOrCancel(items, signal);
  if (first.done) throw invalidArgument('empty stream: the first message must be a spec');
  const payload = 'message' in first.value ? first.value.message.payload : undefined;
  if (payload?.$case !== 'spec') throw invalidArgument('the first message must be a spec, got image bytes before it');
  const { spec, existing } = processor.admit(payload.spec);
  if (existing) return existing.toJob();
  return processor.submitUpload(spec, imageChunks(items, signal), signal);
}

async function* asItems(messages: AsyncIterable<SubmitJobRequest>): AsyncGenerator<UploadItem> {
  for await (const message of messages) yield { message };
}

/**
 * SubmitJob as grpc-js serves it: only the streams `submit-job-stream` leaves to grpc-js
 * (compressed ones) come here.
 */
export function submitJob(processor: Processor, log: Logger): handleClientStreamingCall<SubmitJobRequest, SubmitJobResponse> {
  return (call, callback) => {
    const aborted = new AbortController();
    call.on('cancelled', () => aborted.abort());
    receiveUpload(processor, asItems(call)[Symbol.asyncIterator](), aborted.signal).then(
      (job) => {
        log.info({ rpc: 'SubmitJob', jobId: job.jobId, requestId: requestId(call.metadata) }, 'job accepted');
        callback(null, { job });
      },
      (err: unknown) => callback(toStatus(err, log, { rpc: 'SubmitJob', requestId: requestId(call.metadata) })),
    );
  };
}

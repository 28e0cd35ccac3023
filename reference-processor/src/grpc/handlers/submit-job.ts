import { handleClientStreamingCall } from '@grpc/grpc-js';
import { Job, SubmitJobRequest, SubmitJobResponse } from '@artorizer/contract';
import { cancelled, invalidArgument } from '../../core/errors';
import { Processor } from '../../core/processor';
import { Logger } from '../../logger';
import { requestId, toStatus } from '../errors';

type Messages = AsyncIterator<SubmitJobRequest>;

/** Resolves with the next message, or rejects as soon as the client cancels. */
function nextOrCancel(messages: Messages, signal: AbortSignal): Promise<IteratorResult<SubmitJobRequest>> {
  if (signal.aborted) return Promise.reject(cancelled('client cancelled the upload'));
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(cancelled('client cancelled the upload'));
    signal.addEventListener('abort', onAbort, { once: true });
    messages.next().then(
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

async function* imageChunks(messages: Messages, signal: AbortSignal): AsyncGenerator<Uint8Array> {
  for (;;) {
    const next = await nextOrCancel(messages, signal);
    if (next.done) return;
    const payload = next.value.payload;
    if (payload?.$case === 'spec') throw invalidArgument('a second spec was sent; the spec must be sent once, first');
    if (payload?.$case === 'abort') throw cancelled(`client aborted the upload${payload.abort.reason ? `: ${payload.abort.reason}` : ''}`);
    if (payload?.$case === 'chunk') yield payload.chunk;
  }
}

async function receive(processor: Processor, messages: Messages, signal: AbortSignal): Promise<Job> {
  const first = await nextOrCancel(messages, signal);
  if (first.done) throw invalidArgument('empty stream: the first message must be a spec');
  const payload = first.value.payload;
  if (payload?.$case !== 'spec') throw invalidArgument('the first message must be a spec, got image bytes before it');
  const { spec, existing } = processor.admit(payload.spec);
  if (existing) return existing.toJob();
  return processor.submitUpload(spec, imageChunks(messages, signal), signal);
}

/** SubmitJob: a spec, then the image in chunks, written to disk as they arrive. */
export function submitJob(processor: Processor, log: Logger): handleClientStreamingCall<SubmitJobRequest, SubmitJobResponse> {
  return (call, callback) => {
    const aborted = new AbortController();
    call.on('cancelled', () => aborted.abort());
    receive(processor, call[Symbol.asyncIterator](), aborted.signal).then(
      (job) => {
        log.info({ rpc: 'SubmitJob', jobId: job.jobId, requestId: requestId(call.metadata) }, 'job accepted');
        callback(null, { job });
      },
      (err: unknown) => callback(toStatus(err, log, { rpc: 'SubmitJob', requestId: requestId(call.metadata) })),
    );
  };
}

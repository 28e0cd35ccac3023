import { status as GrpcStatus } from '@grpc/grpc-js';
import { DownloadArtifactResponse, WatchJobResponse, jobToHttp, resultToHttp } from '@artorizer/contract';
import { CallContext, ProcessorPool } from '../grpc/processor-pool';
import { HttpError, isServiceError } from '../http/errors';
import { ArtifactDownload, JobBackend, JobEvent, ResultAnswer, downloadPath } from './backend';

/** Job queries over artorizer.v1, on the processor that owns the job. */
export class GrpcJobBackend implements JobBackend {
  constructor(private readonly pool: ProcessorPool) {}

  async status(jobId: string, ctx: CallContext) {
    return jobToHttp(await this.pool.getJob(jobId, ctx));
  }

  async result(jobId: string, ctx: CallContext): Promise<ResultAnswer> {
    try {
      const { job, result } = await this.pool.getResult(jobId, ctx);
      return { done: true, body: resultToHttp(job!, result!, (a) => downloadPath(jobId, a.variant)) };
    } catch (err) {
      if (isServiceError(err) && err.code === GrpcStatus.FAILED_PRECONDITION) {
        return { done: false, status: await this.status(jobId, ctx) };
      }
      throw err;
    }
  }

  async cancel(jobId: string, ctx: CallContext) {
    return jobToHttp(await this.pool.cancel(jobId, ctx));
  }

  async download(jobId: string, variant: string, ctx: CallContext): Promise<ArtifactDownload> {
    const stream = await this.pool.download(jobId, variant, ctx);
    const messages = stream[Symbol.asyncIterator]() as AsyncIterator<DownloadArtifactResponse>;
    const first = await messages.next();
    if (first.done || first.value.payload?.$case !== 'info') {
      stream.cancel();
      throw new HttpError(502, 'processor sent an artifact without its info');
    }
    const info = first.value.payload.info;
    async function* body(): AsyncGenerator<Buffer> {
      for (;;) {
        const next = await messages.next();
        if (next.done) return;
        if (next.value.payload?.$case === 'chunk') yield next.value.payload.chunk;
      }
    }
    return { contentType: info.contentType, length: info.sizeBytes, body: body(), abort: () => stream.cancel() };
  }

  async *events(jobId: string, ctx: CallContext, signal: AbortSignal): AsyncGenerator<JobEvent> {
    const stream = await this.pool.watch(jobId, ctx);
    const stop = () => stream.cancel();
    signal.addEventListener('abort', stop, { once: true });
    try {
      for await (const event of stream as AsyncIterable<WatchJobResponse>) {
        yield { sequence: event.sequence, status: jobToHttp(event.job!), terminal: event.terminal };
      }
    } catch (err) {
      if (!(signal.aborted && isServiceError(err) && err.code === GrpcStatus.CANCELLED)) throw err;
    } finally {
      signal.removeEventListener('abort', stop);
      stream.cancel();
    }
  }
}

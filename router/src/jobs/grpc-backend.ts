import { status as GrpcStatus } from '@grpc/grpc-js';
import { DownloadArtifactResponse, Job, WatchJobResponse, attachmentDisposition, jobToHttp, resultToHttp } from '@artorizer/contract';
import { downloadFileName, servedType } from '../http/download-headers';
import { CallContext } from '../core/call-context';
import { ProcessorPool } from '../grpc/processor-pool';
import { ObjectStore } from '../storage/object-store';
import { ExpiringMap } from '../submit/expiring-map';
import { jobNotFound, ownsJob } from '../security/ownership';
import { isServiceError } from '../grpc/service-error';
import { HttpError } from '../http/errors';
import { ArtifactDownload, JobBackend, JobEvent, ResultAnswer, downloadPath } from './backend';

/** Job queries over artorizer.v1, on the processor that owns the job. */
export class GrpcJobBackend implements JobBackend {
  constructor(
    private readonly pool: ProcessorPool,
    private readonly uploadsByJob: ExpiringMap<string>,
    private readonly store?: ObjectStore,
    private readonly presignExpirySeconds = 900,
  ) {}

  /** The job, when the caller's key owns it (404 as for an unknown id otherwise). */
  private async owned(jobId: string, ctx: CallContext): Promise<Job> {
    const job = await this.pool.getJob(jobId, ctx);
    if (!ownsJob(job, ctx.key?.name)) throw jobNotFound(jobId);
    return job;
  }

  async status(jobId: string, ctx: CallContext) {
    return jobToHttp(await this.owned(jobId, ctx));
  }

  async result(jobId: string, ctx: CallContext): Promise<ResultAnswer> {
    try {
      const { job, result } = await this.pool.getResult(jobId, ctx);
      if (!ownsJob(job!, ctx.key?.name)) throw jobNotFound(jobId);
      return { done: true, body: resultToHttp(job!, result!, (a) => downloadPath(jobId, a.variant)) };
    } catch (err) {
      if (isServiceError(err) && err.code === GrpcStatus.FAILED_PRECONDITION) {
        return { done: false, status: await this.status(jobId, ctx) };
      }
      throw err;
    }
  }

  /** Cancels the job and deletes the upload object this router made it from (see SubmitDeps.uploadsByJob). */
  async cancel(jobId: string, ctx: CallContext) {
    if (ctx.key) await this.owned(jobId, ctx);
    const job = await this.pool.cancel(jobId, ctx);
    const uploadKey = this.uploadsByJob.take(jobId);
    if (this.store && uploadKey) await this.store.delete(uploadKey);
    return jobToHttp(job);
  }

  /**
   * A presigned GET for an artifact the processor wrote to this router's bucket, under the
   * job's own `jobs/<id>/` prefix only: an artifact said to be elsewhere (a by-reference job's
   * original names whatever key its caller gave) is streamed through the processor instead,
   * so a caller cannot have the router presign an arbitrary object.
   */
  private async storedArtifact(jobId: string, variant: string, ctx: CallContext): Promise<ArtifactDownload | undefined> {
    if (!this.store) return undefined;
    const { job, result } = await this.pool.getResult(jobId, ctx);
    if (!ownsJob(job!, ctx.key?.name)) throw jobNotFound(jobId);
    const artifact = result?.artifacts.find((a) => a.variant === variant);
    const location = artifact?.location?.location;
    if (!artifact || location?.$case !== 's3' || location.s3.bucket !== this.store.bucket || !location.s3.key.startsWith(`jobs/${jobId}/`)) return undefined;
    const type = servedType(variant, artifact.contentType);
    const redirect = await this.store.presignGet(location.s3.key, this.presignExpirySeconds, { contentType: type, disposition: attachmentDisposition(downloadFileName(jobId, variant, type)) });
    return { redirect, contentType: type, length: artifact.sizeBytes, body: noBytes(), abort: () => undefined };
  }

  async download(jobId: string, variant: string, ctx: CallContext): Promise<ArtifactDownload> {
    if (ctx.key) await this.owned(jobId, ctx);
    const stored = await this.storedArtifact(jobId, variant, ctx);
    if (stored) return stored;
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
    if (ctx.key) await this.owned(jobId, ctx);
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

async function* noBytes(): AsyncGenerator<Buffer> {}

import { HttpJobStatus } from '@artorizer/contract';
import { CallContext } from '../core/call-context';
import { HttpError } from '../http/errors';
import { DispatchQueue } from '../queue/dispatch-queue';
import { RecordEvents } from '../queue/record-events';
import { JobRecords, QueuedJob, isTerminal, queuedJobToHttp } from '../queue/records';
import { ObjectStore } from '../storage/object-store';
import { ArtifactDownload, JobBackend, JobEvent, ResultAnswer, downloadPath } from './backend';
import { jobNotFound } from '../security/ownership';

/**
 * Jobs queued through Redis, answered from their records by any router instance; ids that
 * are not queued records (stream-mode jobs) go to the processors as before.
 */
export class QueuedJobBackend implements JobBackend {
  constructor(
    private readonly records: JobRecords,
    private readonly queue: DispatchQueue,
    private readonly recordEvents: RecordEvents,
    private readonly processors: JobBackend,
    private readonly store?: ObjectStore,
  ) {}

  /** The job's record, when the caller's key owns it; another key's record is as good as absent (404). */
  private async record(jobId: string, ctx: CallContext): Promise<QueuedJob | undefined> {
    const record = await this.records.get(jobId);
    if (record && ctx.key && record.owner !== ctx.key.name) throw jobNotFound(jobId);
    return record;
  }

  /** The processor's job of an owned record needs no second ownership check (a GetJob each). */
  private static asOwner(ctx: CallContext): CallContext {
    return { ...ctx, key: undefined };
  }

  async status(jobId: string, ctx: CallContext): Promise<HttpJobStatus> {
    const record = await this.record(jobId, ctx);
    return record ? queuedJobToHttp(record) : this.processors.status(jobId, ctx);
  }

  async result(jobId: string, ctx: CallContext): Promise<ResultAnswer> {
    const record = await this.record(jobId, ctx);
    if (!record) return this.processors.result(jobId, ctx);
    if (record.status !== 'completed' || !record.processorJobId) return { done: false, status: queuedJobToHttp(record) };
    const answer = await this.processors.result(record.processorJobId, QueuedJobBackend.asOwner(ctx));
    if (!answer.done) return { done: false, status: queuedJobToHttp(record) };
    const artifacts = answer.body.artifacts.map((a) => ({ ...a, url: downloadPath(jobId, a.variant) }));
    return { done: true, body: { ...answer.body, job_id: jobId, artifacts, download_urls: Object.fromEntries(artifacts.map((a) => [a.variant, a.url])) } };
  }

  async download(jobId: string, variant: string, ctx: CallContext): Promise<ArtifactDownload> {
    const record = await this.record(jobId, ctx);
    if (!record) return this.processors.download(jobId, variant, ctx);
    if (record.status !== 'completed' || !record.processorJobId) throw new HttpError(409, `job is ${queuedJobToHttp(record).status}, not completed`);
    return this.processors.download(record.processorJobId, variant, QueuedJobBackend.asOwner(ctx));
  }

  async cancel(jobId: string, ctx: CallContext): Promise<HttpJobStatus> {
    const record = await this.record(jobId, ctx);
    if (!record) return this.processors.cancel(jobId, ctx);
    if (isTerminal(record)) throw new HttpError(409, `job has already ended (${record.status})`);
    if (record.processorJobId) await this.processors.cancel(record.processorJobId, QueuedJobBackend.asOwner(ctx));
    else await this.queue.remove(jobId);
    const updated = await this.records.update(jobId, { status: 'cancelled', completedAt: new Date().toISOString() });
    if (record.source.kind === 's3') await this.store?.delete(record.source.key);
    return queuedJobToHttp(updated ?? record);
  }

  async *events(jobId: string, ctx: CallContext, signal: AbortSignal): AsyncGenerator<JobEvent> {
    const channel = this.records.channel(jobId);
    const pending: QueuedJob[] = [];
    let wake: (() => void) | undefined;
    const unsubscribe = await this.recordEvents.subscribe(channel, (job) => {
      pending.push(job);
      wake?.();
    });
    const stop = () => wake?.();
    signal.addEventListener('abort', stop, { once: true });
    try {
      const first = await this.record(jobId, ctx);
      if (!first) {
        yield* this.processors.events(jobId, ctx, signal);
        return;
      }
      let last = first.sequence;
      yield { sequence: first.sequence, status: queuedJobToHttp(first), terminal: isTerminal(first) };
      if (isTerminal(first)) return;
      while (!signal.aborted) {
        const job = pending.shift();
        if (!job) {
          await new Promise<void>((resolve) => (wake = resolve));
          continue;
        }
        if (job.sequence <= last) continue;
        last = job.sequence;
        yield { sequence: job.sequence, status: queuedJobToHttp(job), terminal: isTerminal(job) };
        if (isTerminal(job)) return;
      }
    } finally {
      signal.removeEventListener('abort', stop);
      await unsubscribe();
    }
  }
}

import { Job as BullJob, UnrecoverableError, Worker } from 'bullmq';
import { ClientReadableStream, status as GrpcStatus } from '@grpc/grpc-js';
import { ImageReference, JobErrorReason, JobSpec, JobState, RETRYABLE_GRPC_CODES, WatchJobResponse, isTerminalState, jobToHttp } from '@artorizer/contract';
import { RouterConfig } from '../config';
import { ProcessorPool } from '../grpc/processor-pool';
import { isServiceError } from '../grpc/service-error';
import { Logger } from '../logger';
import { RedisConnection, RedisTarget, openRedis } from '../redis';
import { ObjectStore } from '../storage/object-store';
import { storedImageReference } from '../storage/image-reference';
import { UploadInspection, inspectUpload } from '../storage/inspect-upload';
import { DISPATCH_QUEUE, DispatchData } from './dispatch-queue';
import { HealthBreaker } from '../grpc/health-breaker';
import { queuePrefix } from './keys';
import { JobRecords, QueuedJob, isTerminal } from './records';

export interface DispatcherOptions {
  /** REDIS_URL or REDIS_CLUSTER_NODES. */
  redis: RedisTarget;
  /** BullMQ's prefix, `queuePrefix(REDIS_PREFIX)` (see queue/keys.ts). */
  prefix: string;
  /** Jobs in flight per processor (`PROCESSOR_MAX_INFLIGHT`). */
  perProcessorLimit: number;
  presignExpirySeconds: number;
  s3Reference: 'presigned' | 'key';
  /** MAX_FILE_SIZE, for the check of direct uploads. */
  maxFileBytes: number;
  /** BullMQ's lock on a job being dispatched, and how often stalled jobs are looked for (`DISPATCH_LOCK_MS`). */
  lockMs: number;
}

/** The dispatcher's options from the router's configuration (the same in a router and in `make dispatcher`). */
export function dispatcherOptions(config: RouterConfig, redis: RedisTarget): DispatcherOptions {
  return {
    redis,
    prefix: queuePrefix(config.redisPrefix),
    perProcessorLimit: config.perProcessorLimit,
    presignExpirySeconds: config.presignExpirySeconds,
    s3Reference: config.s3Reference,
    maxFileBytes: config.maxFileBytes,
    lockMs: config.dispatchLockMs,
  };
}

class Retryable extends Error {}

/** A WatchJob call the dispatcher follows, and whether the health checks gave up on its processor. */
interface Watch {
  call: ClientReadableStream<WatchJobResponse>;
  abandoned: boolean;
}

/** The job's own input is unusable: it fails (not a dead letter) and is not retried. */
class InputRejected extends UnrecoverableError {
  constructor(
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

/** Problems of a direct upload, named as the processor names the same failures. */
const UPLOAD_PROBLEM_REASON: Record<Exclude<UploadInspection, { ok: true }>['problem'], string> = { not_found: 'fetch_failed', too_large: 'too_large', not_an_image: 'invalid_image' };

/**
 * The BullMQ worker that hands queued jobs to processors and follows them to the end.
 *
 * Each job is submitted with the router job id as its idempotency key, on a processor
 * recorded before the call, so a retry after an ambiguous failure lands on the same
 * processor and gets the same job back instead of a second one. The job is then followed
 * with WatchJob and its record kept current; a broken watch is retried from where it was.
 */
export class Dispatcher {
  private readonly worker: Worker<DispatchData>;
  private readonly connection: RedisConnection;
  /** The jobs being followed, by processor address: their count is that processor's jobs in flight. */
  private readonly watches = new Map<string, Set<Watch>>();

  constructor(
    private readonly options: DispatcherOptions,
    private readonly records: JobRecords,
    private readonly pool: ProcessorPool,
    private readonly breaker: HealthBreaker,
    private readonly store: ObjectStore | undefined,
    private readonly log: Logger,
  ) {
    // BullMQ's workers need maxRetriesPerRequest: null (on a cluster, in each node's options, where openRedis puts it)
    this.connection = openRedis(options.redis, { maxRetriesPerRequest: null });
    this.worker = new Worker<DispatchData>(DISPATCH_QUEUE, (job) => this.run(job), {
      connection: this.connection,
      prefix: options.prefix,
      concurrency: this.concurrency(),
      // A dispatcher that dies leaves its jobs active; another one takes them up once the lock has lapsed.
      lockDuration: options.lockMs,
      stalledInterval: options.lockMs,
      autorun: false,
    });
    this.worker.on('failed', (job, err) => void this.onFailed(job, err));
    this.worker.on('error', (err) => log.warn({ err }, 'dispatcher worker error'));
    breaker.on('health', () => (this.worker.concurrency = this.concurrency()));
    breaker.on('unhealthy', (address: string) => this.abandonWatches(address));
    breaker.on('open', () => void this.worker.pause(true));
    breaker.on('close', () => this.worker.resume());
  }

  /** Jobs in flight at most: the limit for every processor known now (a DNS name's addresses change). */
  private concurrency(): number {
    return Math.max(1, this.pool.addresses.length) * this.options.perProcessorLimit;
  }

  start(): void {
    if (this.breaker.open) void this.worker.pause(true);
    void this.worker.run();
  }

  async close(): Promise<void> {
    await this.worker.close();
    this.connection.disconnect();
  }

  private inFlight(address: string): number {
    return this.watches.get(address)?.size ?? 0;
  }

  /** The healthy processor with the fewest jobs in flight, under the per-processor limit. */
  private chooseProcessor(previous: string | undefined): string {
    if (previous && this.breaker.isHealthy(previous)) return previous;
    const candidates = this.pool.addresses.filter((a) => this.breaker.isHealthy(a) && this.inFlight(a) < this.options.perProcessorLimit).sort((a, b) => this.inFlight(a) - this.inFlight(b));
    if (candidates.length === 0) throw new Retryable('no processor is available');
    return candidates[0];
  }

  /** A direct upload is checked here, not at submit time, so that submits answer at once. */
  private async imageOf(record: QueuedJob): Promise<JobSpec['image']> {
    const source = record.source;
    if (source.kind !== 's3' || !source.directUploadId) return undefined;
    // retried, and in the end dead-lettered with this message: a direct upload is never handed on unchecked
    if (!this.store) throw new Retryable('this dispatcher has no object store (S3_ENDPOINT/S3_BUCKET) to check the direct upload with');
    let inspection: UploadInspection;
    try {
      inspection = await inspectUpload(this.store, source.directUploadId, source.key, this.options.maxFileBytes);
    } catch (err) {
      throw new Retryable(`object store unavailable: ${(err as Error).message}`);
    }
    if (!inspection.ok) throw new InputRejected(UPLOAD_PROBLEM_REASON[inspection.problem], inspection.message);
    return { contentType: inspection.contentType, sizeBytes: inspection.sizeBytes, sha256: '', filename: '' };
  }

  private async reference(record: QueuedJob): Promise<ImageReference> {
    const source = record.source;
    if (source.kind === 'url') return { location: { $case: 'http', http: { url: source.url } } };
    // Presigned now, not at submit time: a queued job can outlive any URL.
    return storedImageReference(source, this.options, this.store);
  }

  private async run(bullJob: BullJob<DispatchData>): Promise<void> {
    const id = bullJob.data.id;
    const record = await this.records.get(id);
    if (!record) {
      // its record expired, or a failed submit's clean-up (JobIntake) could not delete the entry
      this.log.warn({ jobId: id }, 'queue entry without a job record: dropped');
      return;
    }
    if (isTerminal(record)) return;
    const ctx = { requestId: `dispatch-${id}` };
    await this.records.update(id, { attempts: bullJob.attemptsMade + 1 });
    let address = record.processorAddress;
    let processorJobId = record.processorJobId;
    try {
      if (address && processorJobId && !this.breaker.isHealthy(address)) {
        // Its processor stopped answering: run the job elsewhere (the lost one is cancelled if it ever answers).
        this.log.warn({ jobId: id, processor: address }, "the job's processor is not healthy: dispatching the job again");
        void this.pool.cancelAt(address, processorJobId, ctx).catch(() => undefined);
        processorJobId = undefined;
      }
      if (address && processorJobId) {
        try {
          await this.pool.getJobAt(address, processorJobId, ctx);
        } catch (err) {
          // The processor restarted and lost the job: submit it again.
          if (isServiceError(err) && err.code === GrpcStatus.NOT_FOUND) processorJobId = undefined;
          else throw err;
        }
      }
      if (!processorJobId) {
        address = this.chooseProcessor(address);
        await this.records.update(id, { processorAddress: address, status: 'dispatching' });
        const spec = { ...JobSpec.fromJSON(record.spec), idempotencyKey: id, priority: record.priority };
        spec.image = (await this.imageOf(record)) ?? spec.image;
        const job = await this.pool.submitByReferenceAt(address, spec, await this.reference(record), ctx);
        processorJobId = job.jobId;
        const view = jobToHttp(job);
        const now = await this.records.update(id, { processorJobId, status: view.status, progress: view.progress });
        if (now?.status === 'cancelled') {
          // Cancelled while the submit was in flight: the processor must not run it.
          await this.pool.cancelAt(address, processorJobId, ctx).catch(() => undefined);
          return;
        }
      }
      await this.follow(id, address!, processorJobId, ctx);
    } catch (err) {
      throw await this.classify(id, err);
    }
  }

  /** Mirrors WatchJob events into the record until the terminal one. */
  private async follow(id: string, address: string, processorJobId: string, ctx: { requestId: string }): Promise<void> {
    const watch: Watch = { call: this.pool.watchAt(address, processorJobId, ctx), abandoned: false };
    const watches = this.watches.get(address) ?? new Set<Watch>();
    this.watches.set(address, watches.add(watch));
    try {
      for await (const event of watch.call as AsyncIterable<WatchJobResponse>) {
        if (event.job!.state === JobState.JOB_STATE_FAILED && event.job!.error?.reason === JobErrorReason.JOB_ERROR_REASON_SHUTDOWN) {
          // Not the job's fault: run it again (on whichever processor is up then).
          await this.records.update(id, { processorJobId: '', lastError: 'the processor shut down during the job' });
          throw new Retryable('the processor shut down during the job');
        }
        const view = jobToHttp(event.job!);
        await this.records.update(id, { status: view.status, progress: view.progress, error: view.error, completedAt: view.completed_at });
        if (event.terminal || isTerminalState(event.job!.state)) return;
      }
      throw new Retryable('the processor ended the watch before the job finished');
    } catch (err) {
      if (watch.abandoned) throw new Retryable(`the processor ${address} failed its health checks during the job`);
      throw err;
    } finally {
      watches.delete(watch);
      if (watches.size === 0) this.watches.delete(address);
    }
  }

  /** A processor cut off the network leaves its watches open for minutes (TCP keepalive): the health checks end them sooner. */
  private abandonWatches(address: string): void {
    for (const watch of this.watches.get(address) ?? []) {
      watch.abandoned = true;
      watch.call.cancel();
    }
  }

  private async classify(id: string, err: unknown): Promise<Error> {
    if (err instanceof InputRejected) {
      await this.records.update(id, { status: 'failed', lastError: err.message, error: { reason: err.reason, message: err.message }, completedAt: new Date().toISOString() });
      return err;
    }
    const message = isServiceError(err) ? `${GrpcStatus[err.code]}: ${err.details}` : (err as Error).message;
    // only a processor's definite refusal is final: anything else (Redis failing over, a store timeout) is tried again
    if (err instanceof Retryable || !isServiceError(err) || RETRYABLE_GRPC_CODES.has(err.code)) {
      await this.records.update(id, { lastError: message });
      return err instanceof Error ? err : new Error(message);
    }
    await this.deadLetter(id, message, 'rejected');
    return new UnrecoverableError(message);
  }

  private async onFailed(job: BullJob<DispatchData> | undefined, err: Error): Promise<void> {
    if (!job || err instanceof InputRejected) return;
    const exhausted = job.attemptsMade >= (job.opts.attempts ?? 1);
    if (exhausted || err instanceof UnrecoverableError) await this.deadLetter(job.data.id, err.message, exhausted ? 'retries_exhausted' : 'rejected');
  }

  private async deadLetter(id: string, message: string, reason: string): Promise<void> {
    await this.records.update(id, { status: 'failed', deadLetter: true, lastError: message, error: { reason, message }, completedAt: new Date().toISOString() });
    this.log.warn({ jobId: id, reason, message }, 'job moved to the dead letter');
  }
}

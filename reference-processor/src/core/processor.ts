import { S3Client } from '@aws-sdk/client-s3';
import { FieldError, ImageReference, Job, JobErrorReason, JobResult, JobSpec, JobState, WatchJobResponse, safeFileName, validateJobSpec } from '@artorizer/contract';
import { ProcessorConfig } from '../config';
import { Logger } from '../logger';
import { UnsupportedTypeError, cancelled, failedPrecondition, invalidArgument, notFound } from './errors';
import { S3ReferencePolicy, checkReference } from './fetch-reference';
import { IngestedFile, ingestToFile } from './ingest';
import { JobRecord, StoredArtifact } from './job-record';
import { JobRunner } from './job-runner';
import { JobTable } from './job-table';
import { removeJobFiles, runJob } from './pipeline';
import { ArtifactStore } from './artifact-store';
import { Workspace } from './workspace';
import { PixelPool } from '../image/pixel-thread';
import { acceptableDeclaredType } from '@artorizer/contract';
import { AddressPolicy } from '@artorizer/net-guard';

/** The processor's core, shared by the gRPC service and the legacy HTTP API. */
export class Processor {
  readonly jobs = new JobTable();
  readonly workspace: Workspace;
  private readonly runner: JobRunner;
  private sweepTimer: NodeJS.Timeout | undefined;
  readonly artifacts?: ArtifactStore;
  private readonly storePolicy: S3ReferencePolicy | undefined;
  private readonly pixels: PixelPool;

  constructor(
    private readonly config: ProcessorConfig,
    private readonly log: Logger,
    workDir: string,
    private readonly s3?: S3Client,
  ) {
    this.workspace = new Workspace(workDir);
    this.artifacts = s3 && config.s3 ? new ArtifactStore(s3, config.s3.bucket) : undefined;
    this.storePolicy = referencePolicy(config);
    this.pixels = new PixelPool(config.concurrency);
    const deps = {
      jobs: this.jobs,
      workspace: this.workspace,
      maxImageBytes: config.maxImageBytes,
      maxImagePixels: config.maxImagePixels,
      fetchTimeoutMs: config.fetchTimeoutMs,
      pixels: this.pixels,
      addresses: fetchPolicy(config),
      storePolicy: this.storePolicy,
      s3,
      artifacts: this.artifacts,
      log,
    };
    this.runner = new JobRunner(config.concurrency, config.maxQueuedJobs, (record) => runJob(record, deps));
  }

  async start(): Promise<void> {
    await this.workspace.init();
    const every = Math.min(60_000, this.config.jobRetentionMs);
    this.sweepTimer = setInterval(() => void this.sweep(), every).unref();
  }

  get maxImageBytes(): number {
    return this.config.maxImageBytes;
  }

  /**
   * Validates a spec and returns the job an idempotency key already names, if any. A declared
   * type that is not a raster image is refused here; the client's file name is kept cleaned.
   */
  admit(spec: JobSpec | undefined): { spec: JobSpec; existing?: JobRecord } {
    if (!spec) throw invalidArgument('spec is required');
    try {
      validateJobSpec(spec);
    } catch (err) {
      if (err instanceof FieldError) throw invalidArgument(err.message);
      throw err;
    }
    if (spec.image) {
      if (!acceptableDeclaredType(spec.image.contentType)) throw new UnsupportedTypeError(spec.image.contentType);
      spec.image.filename = safeFileName(spec.image.filename);
    }
    const existing = this.jobs.findByIdempotencyKey(spec.idempotencyKey);
    if (!existing) this.runner.checkCapacity();
    return { spec, existing };
  }

  /** Receives an upload; the job exists only once every byte has arrived and checked out. */
  async submitUpload(spec: JobSpec, chunks: AsyncIterable<Uint8Array | readonly Uint8Array[]>, signal?: AbortSignal): Promise<Job> {
    const incoming = this.workspace.incomingPath();
    const file = await ingestToFile(chunks, incoming, {
      maxBytes: this.config.maxImageBytes,
      declaredSize: spec.image?.sizeBytes,
      declaredSha256: spec.image?.sha256,
    });
    // HTTP/2 ends a reset stream like a finished one and reports the reset just after,
    // by which time the file has been flushed: check once more before creating the job.
    if (signal?.aborted) {
      await this.workspace.discard(file.path);
      throw cancelled('client cancelled the upload');
    }
    return this.submitReceived(spec, file);
  }

  /** Turns a completely received incoming file into a queued job (or removes it). */
  async submitReceived(spec: JobSpec, file: IngestedFile): Promise<Job> {
    try {
      this.runner.checkCapacity();
    } catch (err) {
      await this.workspace.discard(file.path);
      throw err;
    }
    // the file moves into the job's folder when the job starts: a folder and a rename less before the answer
    const record = this.jobs.create(spec, { kind: 'upload', file });
    const accepted = record.toJob();
    this.runner.submit(record);
    return accepted;
  }

  submitReference(spec: JobSpec, reference: ImageReference | undefined): Job {
    const checked = checkReference(reference, this.s3 ? this.storePolicy : undefined);
    const record = this.jobs.create(spec, { kind: 'reference', reference: checked });
    const accepted = record.toJob();
    this.runner.submit(record);
    return accepted;
  }

  getJob(jobId: string): Job {
    return this.jobs.get(jobId).toJob();
  }

  getResult(jobId: string): { job: Job; result: JobResult } {
    const record = this.jobs.get(jobId);
    if (record.state !== JobState.JOB_STATE_COMPLETED || !record.result) {
      throw failedPrecondition(`job ${jobId} is not completed (state ${JobState[record.state]})`);
    }
    return { job: record.toJob(), result: record.result };
  }

  /** Current event, then every later one, until the terminal event; unsubscribe when done. */
  watch(jobId: string, listener: (event: WatchJobResponse) => void): () => void {
    const record = this.jobs.get(jobId);
    listener(record.toEvent());
    if (record.terminal) return () => undefined;
    return this.jobs.subscribe(jobId, listener);
  }

  async cancel(jobId: string): Promise<Job> {
    const record = this.jobs.get(jobId);
    if (record.terminal) {
      throw failedPrecondition(`job ${jobId} has already ended (state ${JobState[record.state]})`);
    }
    const wasQueued = this.runner.dequeue(record);
    this.jobs.finish(record, JobState.JOB_STATE_CANCELLED);
    record.abort.abort(cancelled('job cancelled'));
    if (wasQueued) {
      await this.workspace.removeJob(record.id);
      if (record.source.kind === 'upload') await this.workspace.discard(record.source.file.path);
    }
    return record.toJob();
  }

  /** Deletes a finished or cancelled job's files, local and stored. */
  artifact(jobId: string, variant: string): StoredArtifact {
    const record = this.jobs.get(jobId);
    if (record.state !== JobState.JOB_STATE_COMPLETED) {
      throw failedPrecondition(`job ${jobId} is not completed (state ${JobState[record.state]})`);
    }
    const artifact = record.artifacts.get(variant);
    if (!artifact) {
      throw notFound(`job ${jobId} has no artifact "${variant}"; it has: ${[...record.artifacts.keys()].join(', ')}`);
    }
    return artifact;
  }

  /** Stops taking jobs, lets running ones finish within the grace period, cancels the rest. */
  async shutdown(graceMs: number): Promise<void> {
    clearInterval(this.sweepTimer);
    const shutdownError = { reason: JobErrorReason.JOB_ERROR_REASON_SHUTDOWN, message: 'processor shut down before the job ran' };
    for (const record of this.runner.close()) {
      this.jobs.finish(record, JobState.JOB_STATE_FAILED, shutdownError);
      // a queued upload's file is still in incoming/ (it moves into the job's folder when the job starts)
      if (record.source.kind === 'upload') await this.workspace.discard(record.source.file.path);
    }
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), graceMs)));
    const outcome = await Promise.race([this.runner.settled().then(() => 'settled' as const), grace]);
    clearTimeout(timer);
    if (outcome === 'timeout') {
      for (const record of this.jobs.all()) {
        if (record.terminal) continue;
        this.jobs.finish(record, JobState.JOB_STATE_FAILED, { ...shutdownError, message: 'processor shut down while the job was running' });
        record.abort.abort();
      }
      await this.runner.settled();
    }
    await this.pixels.close();
  }

  private async sweep(): Promise<void> {
    for (const record of this.jobs.evictFinished(this.config.jobRetentionMs)) await removeJobFiles(this, record.id);
  }
}

/** Where references may point in the processor's own store (see S3ReferencePolicy). */
function referencePolicy(config: ProcessorConfig): S3ReferencePolicy | undefined {
  return config.s3 ? { endpoint: config.s3.endpoint, bucket: config.s3.bucket, prefixes: config.s3ReferencePrefixes } : undefined;
}

/** IMAGE_URL_ALLOWLIST, plus the host of the processor's own object store (presigned URLs point there). */
function fetchPolicy(config: ProcessorConfig): AddressPolicy {
  const storeHost = config.s3?.endpoint ? new URL(config.s3.endpoint).hostname : undefined;
  return new AddressPolicy(storeHost ? [...config.imageUrlAllowlist, storeHost.replace(/^\[(.*)\]$/, '$1')] : config.imageUrlAllowlist);
}

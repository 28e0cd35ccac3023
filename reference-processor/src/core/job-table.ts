import { EventEmitter } from 'node:events';
import { JobError, JobSpec, JobStage, JobState, WatchJobResponse } from '@artorizer/contract';
import { notFound } from './errors';
import { ImageSource, JobRecord, STAGE_LABELS } from './job-record';

export type JobListener = (event: WatchJobResponse) => void;

/** In-memory job table; every change is numbered and published to watchers. */
export class JobTable {
  private readonly jobs = new Map<string, JobRecord>();
  private readonly byIdempotencyKey = new Map<string, JobRecord>();
  private readonly events = new EventEmitter().setMaxListeners(0);

  create(spec: JobSpec, source: ImageSource): JobRecord {
    const record = new JobRecord(spec, source);
    this.jobs.set(record.id, record);
    if (spec.idempotencyKey) this.byIdempotencyKey.set(spec.idempotencyKey, record);
    this.publish(record);
    return record;
  }

  get(jobId: string): JobRecord {
    const record = this.jobs.get(jobId);
    if (!record) throw notFound(`job ${JSON.stringify(jobId)} not found`);
    return record;
  }

  findByIdempotencyKey(key: string): JobRecord | undefined {
    return key ? this.byIdempotencyKey.get(key) : undefined;
  }

  all(): IterableIterator<JobRecord> {
    return this.jobs.values();
  }

  /** Moves a job to the given stage of its plan (state PROCESSING). */
  enterStage(record: JobRecord, stage: JobStage): void {
    const index = record.stages.indexOf(stage);
    record.state = JobState.JOB_STATE_PROCESSING;
    record.progress = {
      stage,
      currentStep: STAGE_LABELS[stage] ?? 'Processing',
      stepNumber: index + 1,
      totalSteps: record.stages.length,
      percent: Math.round((index / record.stages.length) * 100),
    };
    this.publish(record);
  }

  /** Ends a job. A job that has already ended stays as it was. */
  finish(record: JobRecord, state: JobState, error?: JobError): boolean {
    if (record.terminal) return false;
    record.state = state;
    record.error = error;
    record.finishedAt = new Date();
    record.progress = {
      stage: JobStage.JOB_STAGE_DONE,
      currentStep: state === JobState.JOB_STATE_COMPLETED ? 'Completed' : state === JobState.JOB_STATE_CANCELLED ? 'Cancelled' : 'Failed',
      stepNumber: state === JobState.JOB_STATE_COMPLETED ? record.stages.length : record.progress.stepNumber,
      totalSteps: record.stages.length,
      percent: state === JobState.JOB_STATE_COMPLETED ? 100 : record.progress.percent,
    };
    this.publish(record);
    return true;
  }

  subscribe(jobId: string, listener: JobListener): () => void {
    this.events.on(jobId, listener);
    return () => this.events.off(jobId, listener);
  }

  /** Forgets finished jobs older than `maxAgeMs`; returns them so their files can be removed. */
  evictFinished(maxAgeMs: number, now = Date.now()): JobRecord[] {
    const evicted: JobRecord[] = [];
    for (const record of this.jobs.values()) {
      if (record.finishedAt && now - record.finishedAt.getTime() > maxAgeMs) {
        this.jobs.delete(record.id);
        if (record.spec.idempotencyKey) this.byIdempotencyKey.delete(record.spec.idempotencyKey);
        evicted.push(record);
      }
    }
    return evicted;
  }

  private publish(record: JobRecord): void {
    record.sequence += 1;
    record.updatedAt = new Date();
    this.events.emit(record.id, record.toEvent());
  }
}

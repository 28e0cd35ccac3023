import { JobSpec } from '@artorizer/contract';
import { CallContext } from '../core/call-context';
import { QueuedJob } from '../queue/records';
import { ObjectStore, uploadKeyFor } from '../storage/object-store';
import { Accepted } from './accepted';
import { ObjectHandoff } from './paths';
import { EnqueueFailed, Enqueued, JobQueue, enqueueJob } from './queued';

const usesObject = (job: QueuedJob, key: string) => job.source.kind === 's3' && job.source.key === key;

/**
 * With a queue, jobs whose image is in the store are recorded and queued at once; the
 * dispatcher checks a direct upload before it hands the job on.
 */
export class QueuedObjects implements ObjectHandoff {
  constructor(
    readonly store: ObjectStore,
    private readonly queue: JobQueue,
  ) {}

  submitObject(key: string, spec: JobSpec, _ctx: CallContext, keepForRetry: boolean): Promise<Accepted> {
    return this.enqueue(key, spec, keepForRetry);
  }

  submitUpload(uploadId: string, spec: JobSpec): Promise<Accepted> {
    return this.enqueue(uploadKeyFor(uploadId), spec, true, uploadId);
  }

  private async enqueue(key: string, spec: JobSpec, keepForRetry: boolean, directUploadId?: string): Promise<Accepted> {
    let enqueued: Enqueued;
    try {
      enqueued = await enqueueJob(spec, { kind: 's3', bucket: this.store.bucket, key, directUploadId }, this.queue);
    } catch (err) {
      if (!keepForRetry && !(await this.mayHoldObject(err, key))) await this.store.delete(key);
      throw err;
    }
    // A repeated idempotency key: the earlier job has its own image; the one the router just stored is nobody's.
    if (enqueued.earlier && !keepForRetry && !usesObject(enqueued.earlier, key)) await this.store.delete(key);
    return enqueued.accepted;
  }

  /**
   * Whether a failed submit's job may still be queued with this object (Redis ran the write but
   * its answer was lost): it is kept then, and when Redis cannot tell; the store's retention
   * rule removes it if no job has it.
   */
  private async mayHoldObject(err: unknown, key: string): Promise<boolean> {
    if (!(err instanceof EnqueueFailed)) return false;
    try {
      const job = await this.queue.records.get(err.jobId);
      return job !== undefined && usesObject(job, key);
    } catch {
      return true;
    }
  }
}

import { JobSpec } from '@artorizer/contract';
import { HttpError } from '../http/errors';
import { QueuedJob, QueuedSource, queuedJobToHttp } from '../queue/records';
import { Accepted, SubmitDeps } from './deps';

export interface Enqueued extends Accepted {
  /** Set when the submit's idempotency key names a job an earlier submit queued: nothing new was written. */
  earlier?: QueuedJob;
}

/**
 * Records and enqueues a job whose image needs no router bytes; answers as soon as the record
 * and the queue entry are in Redis (one transaction, see JobIntake), 503 when they are not.
 * A client's `idempotency_key` names one job: a repeated submit (a retry after a timeout, or
 * after a 503 whose write did land) gets that job back instead of a second one, as the
 * processor does for a synchronous submit.
 */
export async function enqueueJob(spec: JobSpec, source: QueuedSource, deps: SubmitDeps): Promise<Enqueued> {
  const { records, intake } = deps.queue!;
  const record = records.draft(JobSpec.toJSON(spec), source, spec.priority);
  try {
    if (spec.idempotencyKey) {
      record.id = await records.claimIdempotencyKey(spec.idempotencyKey, record.id);
      const earlier = await records.get(record.id);
      if (earlier) return existing(earlier);
      // Otherwise the claim is ours, or its submit's write never landed: either way this submit writes the job.
    }
    if (!(await intake.add(record))) {
      // A concurrent submit with the same key wrote the record first.
      const earlier = await records.get(record.id);
      if (earlier) return existing(earlier);
      throw new Error(`job ${record.id} was written by another submit and is gone`);
    }
  } catch (err) {
    throw new HttpError(503, 'job queue unavailable, retry later', {}, { cause: err });
  }
  return { job_id: record.id, status: 'queued' };
}

function existing(job: QueuedJob): Enqueued {
  return { job_id: job.id, status: queuedJobToHttp(job).status, earlier: job };
}

import { JobSpec } from '@artorizer/contract';
import { HttpError } from '../http/errors';
import { JobIntake } from '../queue/intake';
import { JobRecords, QueuedJob, QueuedSource, RecordTooLarge, queuedJobToHttp } from '../queue/records';
import { OWNER_LABEL } from '../security/ownership';
import { Accepted } from './accepted';

/** Where submits are queued (with REDIS_URL): the job records, and the intake that writes a record with its queue entry. */
export interface JobQueue {
  records: JobRecords;
  intake: Pick<JobIntake, 'add' | 'refill'>;
}

export interface Enqueued {
  accepted: Accepted;
  /** The job an earlier submit with the same idempotency key queued, when this one wrote nothing. */
  earlier?: QueuedJob;
}

/**
 * 503: the job could not be queued, or Redis's answer was lost and it may be. `jobId` is the
 * id it was written under, for a caller that must know whether the job holds its input.
 */
export class EnqueueFailed extends HttpError {
  constructor(
    readonly jobId: string,
    cause: unknown,
  ) {
    super(503, 'job queue unavailable, retry later', {}, { cause });
  }
}

/**
 * Records and enqueues a job whose image needs no router bytes; answers as soon as the record
 * and the queue entry are in Redis (one transaction, see JobIntake), 503 when they are not.
 * A client's `idempotency_key` names one job: a repeated submit (a retry after a timeout, or
 * after a 503 whose write did land) gets that job back instead of a second one, as the
 * processor does for a synchronous submit.
 */
export async function enqueueJob(spec: JobSpec, source: QueuedSource, queue: JobQueue): Promise<Enqueued> {
  const { records, intake } = queue;
  const record = records.draft(JobSpec.toJSON(spec), source, spec.priority);
  const owner = spec.labels[OWNER_LABEL];
  if (owner) record.owner = owner;
  try {
    if (!spec.idempotencyKey) {
      await intake.add(record);
      return { accepted: { job_id: record.id, status: 'queued' } };
    }
    // a record too large must fail before it claims the key, or the key would name a job never written
    records.serialize(record);
    const claim = await records.claimIdempotencyKey(spec.idempotencyKey, record.id);
    if (claim.record) return earlier(claim.record);
    const claimed = claim.owner === record.id;
    record.id = claim.owner;
    if (claimed ? await intake.add(record) : await intake.refill(record)) return { accepted: { job_id: record.id, status: 'queued' } };
    // A concurrent submit with the same key wrote the job first.
    const written = await records.get(record.id);
    if (!written) throw new Error(`job ${record.id} was written by another submit and is gone`);
    return earlier(written);
  } catch (err) {
    if (err instanceof RecordTooLarge) throw new HttpError(413, err.message);
    throw new EnqueueFailed(record.id, err);
  }
}

function earlier(job: QueuedJob): Enqueued {
  return { accepted: { job_id: job.id, status: queuedJobToHttp(job).status }, earlier: job };
}

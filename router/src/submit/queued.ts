import { JobSpec } from '@artorizer/contract';
import { HttpError } from '../http/errors';
import { QueuedSource } from '../queue/records';
import { Accepted, SubmitDeps } from './deps';

/**
 * Records and enqueues a job whose image needs no router bytes; answers as soon as the record
 * and the queue entry are in Redis (one transaction, see JobIntake), 503 when they are not.
 */
export async function enqueueJob(spec: JobSpec, source: QueuedSource, deps: SubmitDeps): Promise<Accepted> {
  const { records, intake } = deps.queue!;
  const record = records.draft(JobSpec.toJSON(spec), source, spec.priority);
  try {
    await intake.add(record);
  } catch (err) {
    throw new HttpError(503, 'job queue unavailable, retry later', {}, { cause: err });
  }
  return { job_id: record.id, status: 'queued' };
}

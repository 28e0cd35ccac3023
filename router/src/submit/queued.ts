import { JobSpec } from '@artorizer/contract';
import { QueuedSource } from '../queue/records';
import { Accepted, SubmitDeps } from './deps';

/**
 * Records and enqueues a job whose image needs no router bytes; answers at once. Both writes
 * go out together on one Redis connection, which runs them in order, so a dispatcher never
 * takes a job whose record is not there yet.
 */
export async function enqueueJob(spec: JobSpec, source: QueuedSource, deps: SubmitDeps): Promise<Accepted> {
  const { records, dispatch } = deps.queue!;
  const record = records.draft(JobSpec.toJSON(spec), source, spec.priority);
  await Promise.all([records.save(record), dispatch.enqueue(record.id, spec.priority)]);
  return { job_id: record.id, status: 'queued' };
}

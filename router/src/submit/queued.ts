import { JobSpec } from '@artorizer/contract';
import { QueuedSource } from '../queue/records';
import { Accepted, SubmitDeps } from './deps';

/** Records and enqueues a job whose image needs no router bytes; answers at once. */
export async function enqueueJob(spec: JobSpec, source: QueuedSource, deps: SubmitDeps): Promise<Accepted> {
  const { records, dispatch } = deps.queue!;
  const record = await records.create(JobSpec.toJSON(spec), source, spec.priority);
  await dispatch.enqueue(record.id, spec.priority);
  return { job_id: record.id, status: 'queued' };
}

import { createHash } from 'node:crypto';
import { Job, JobSpec } from '@artorizer/contract';
import { HttpError } from '../http/errors';
import { ApiKey } from './api-keys';

/** The label naming the API key a job belongs to. */
export const OWNER_LABEL = 'artorizer.owner';

/** 404 exactly as for a job that does not exist: another key's job is not confirmed to exist. */
export function jobNotFound(jobId: string): HttpError {
  return new HttpError(404, `job ${JSON.stringify(jobId)} not found`, { grpc_code: 'NOT_FOUND' });
}

/**
 * A spec as its key submits it: labelled with the key's name, its idempotency key scoped to
 * the key (two tenants choosing the same idempotency key get two jobs), and its priority
 * checked against what the keys file allows the key. Open routers (no keys) pass it as it is.
 */
export function ownedSpec(spec: JobSpec, key: ApiKey | undefined): JobSpec {
  if (!key) return spec;
  if (spec.priority > key.maxPriority) {
    throw new HttpError(403, `priority ${spec.priority} is above what this API key may use (${key.maxPriority})`, { field: 'priority' });
  }
  const idempotencyKey = spec.idempotencyKey ? createHash('sha256').update(`${key.name}\0${spec.idempotencyKey}`).digest('hex') : '';
  return { ...spec, idempotencyKey, labels: { ...spec.labels, [OWNER_LABEL]: key.name } };
}

/** Whether `owner` (a key name, or undefined when the router is open) may see this job. */
export function ownsJob(job: Pick<Job, 'labels'>, owner: string | undefined): boolean {
  return owner === undefined || job.labels[OWNER_LABEL] === owner;
}

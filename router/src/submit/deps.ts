import { JobSpec, jobSpecFromFields } from '@artorizer/contract';
import { RouterConfig } from '../config';
import { CallContext } from '../core/call-context';
import { ProcessorPool } from '../grpc/processor-pool';
import { ownedSpec } from '../security/ownership';
import { HttpError } from '../http/errors';
import { fieldErrorToHttp } from '../http/field-error';
import { Metrics } from '../metrics';
import { ObjectStore } from '../storage/object-store';
import { HealthBreaker } from '../grpc/health-breaker';
import { JobIntake } from '../queue/intake';
import { JobRecords } from '../queue/records';
import { ExpiringMap } from './expiring-map';
import { UploadClaims } from './upload-claims';

export interface SubmitDeps {
  config: RouterConfig;
  pool: ProcessorPool;
  metrics: Metrics;
  store?: ObjectStore;
  /** Present with REDIS_URL: submits whose image is already stored are queued, not sent. */
  queue?: { records: JobRecords; intake: JobIntake };
  breaker?: HealthBreaker;
  /** Where uploads whose metadata comes after the file wait (this process's working folder). */
  spoolDir: string;
  /**
   * The upload object each job this router submitted without a queue was made from, so its
   * cancel deletes it. Only the router's own record counts: a key named in a job's labels could
   * have been put there by any SubmitJob caller. (Queued jobs keep theirs in their record.)
   */
  uploadsByJob: ExpiringMap<string>;
  /** Direct-upload grants, each consumed by one submit. */
  uploadClaims: UploadClaims;
}

/** What POST /protect answers once a processor has the job. */
export interface Accepted {
  job_id: string;
  status: string;
}

/** The spec the fields describe, as the request's API key submits it (see ownedSpec). */
export function specOrBadRequest(fields: Record<string, unknown>, ctx: CallContext): JobSpec {
  try {
    return ownedSpec(jobSpecFromFields(fields), ctx.key);
  } catch (err) {
    throw fieldErrorToHttp(err);
  }
}

/** A store failure that is not the client's fault: 503 so clients retry. */
export function storeUnavailable(err: unknown): HttpError {
  return new HttpError(503, 'object store unavailable, retry later', {}, { cause: err });
}

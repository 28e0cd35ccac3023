import { FieldError, JobSpec, jobSpecFromFields } from '@artorizer/contract';
import { RouterConfig } from '../config';
import { ProcessorPool } from '../grpc/processor-pool';
import { HttpError } from '../http/errors';
import { Metrics } from '../metrics';
import { ObjectStore } from '../storage/object-store';
import { HealthBreaker } from '../queue/health-breaker';
import { JobIntake } from '../queue/intake';
import { JobRecords } from '../queue/records';
import { UploadLabels } from '../security/upload-labels';
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
  /** Signs the upload key put in a job's labels (see UploadLabels). */
  uploadLabels: UploadLabels;
  /** Direct-upload grants, each consumed by one submit. */
  uploadClaims: UploadClaims;
}

/** What POST /protect answers once a processor has the job. */
export interface Accepted {
  job_id: string;
  status: string;
}

export function specOrBadRequest(fields: Record<string, unknown>): JobSpec {
  try {
    return jobSpecFromFields(fields);
  } catch (err) {
    if (err instanceof FieldError) throw new HttpError(400, err.message, { field: err.field });
    throw err;
  }
}

/** A store failure that is not the client's fault: 503 so clients retry. */
export function storeUnavailable(err: unknown): HttpError {
  return new HttpError(503, 'object store unavailable, retry later', {}, { cause: err });
}

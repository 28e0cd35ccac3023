import { JobSpec, RETRYABLE_GRPC_CODES } from '@artorizer/contract';
import { CallContext } from '../core/call-context';
import { ProcessorPool } from '../grpc/processor-pool';
import { isServiceError } from '../grpc/service-error';
import { HttpError, asStoreFailure, storeUnavailable } from '../http/errors';
import { ReferenceSettings, storedImageReference } from '../storage/image-reference';
import { UploadInspection, inspectUpload } from '../storage/inspect-upload';
import { ObjectStore, uploadKeyFor } from '../storage/object-store';
import { Accepted, acceptedJob } from './accepted';
import { ExpiringMap } from './expiring-map';
import { ObjectHandoff } from './paths';

const INSPECTION_STATUS: Record<Exclude<UploadInspection, { ok: true }>['problem'], number> = { not_found: 400, too_large: 413, not_an_image: 415 };

/** Without a queue, jobs whose image is in the store are submitted to a processor by reference, before the answer. */
export class SubmittedObjects implements ObjectHandoff {
  constructor(
    readonly store: ObjectStore,
    private readonly pool: ProcessorPool,
    /**
     * The upload object of each job submitted here, so its cancel deletes it. Only the router's
     * own record counts: a key named in a job's labels could have been put there by any
     * SubmitJob caller. (Queued jobs keep theirs in their record.)
     */
    private readonly uploadsByJob: ExpiringMap<string>,
    private readonly references: ReferenceSettings,
    private readonly maxFileBytes: number,
  ) {}

  async submitObject(key: string, spec: JobSpec, ctx: CallContext, keepForRetry: boolean): Promise<Accepted> {
    try {
      const job = await this.pool.submitByReference(spec, await storedImageReference({ bucket: this.store.bucket, key }, this.references, this.store), ctx);
      this.uploadsByJob.set(job.jobId, key);
      return acceptedJob(job);
    } catch (err) {
      if (!(keepForRetry && isServiceError(err) && RETRYABLE_GRPC_CODES.has(err.code))) await this.store.delete(key);
      throw err;
    }
  }

  /** Checks the object here (exists, fits the limit, is an image by its first bytes) without touching the rest. */
  async submitUpload(uploadId: string, spec: JobSpec, ctx: CallContext): Promise<Accepted> {
    const key = uploadKeyFor(uploadId);
    let inspection: UploadInspection;
    try {
      inspection = await inspectUpload(this.store, uploadId, key, this.maxFileBytes);
    } catch (err) {
      throw storeUnavailable(err);
    }
    if (!inspection.ok) throw new HttpError(INSPECTION_STATUS[inspection.problem], inspection.message, { field: 'upload_id' });
    spec.image = { contentType: inspection.contentType, sizeBytes: inspection.sizeBytes, sha256: '', filename: '' };
    try {
      return await this.submitObject(key, spec, ctx, true);
    } catch (err) {
      throw asStoreFailure(err);
    }
  }
}

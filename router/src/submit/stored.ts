import { JobSpec, RETRYABLE_GRPC_CODES, jobStatusName } from '@artorizer/contract';
import { CallContext } from '../core/call-context';
import { isServiceError } from '../grpc/service-error';
import { HttpError } from '../http/errors';
import { storedImageReference } from '../storage/image-reference';
import { ObjectStore, uploadKeyFor } from '../storage/object-store';
import { StoredUpload } from '../upload/s3-relay';
import { QueuedJob } from '../queue/records';
import { EnqueueFailed, Enqueued, enqueueJob } from './queued';
import { UploadInspection, inspectUpload } from '../storage/inspect-upload';
import { Accepted, SubmitDeps, specOrBadRequest, storeUnavailable } from './deps';
import { TUS_PATH, namedUploadId } from '../tus/upload-id';
import { settleFinishedUpload } from '../tus/settle';

const INSPECTION_STATUS: Record<Exclude<UploadInspection, { ok: true }>['problem'], number> = { not_found: 400, too_large: 413, not_an_image: 415 };

async function enqueueStored(store: ObjectStore, key: string, spec: JobSpec, deps: SubmitDeps, keepForRetry: boolean, directUploadId?: string): Promise<Accepted> {
  let enqueued: Enqueued;
  try {
    enqueued = await enqueueJob(spec, { kind: 's3', bucket: store.bucket, key, directUploadId }, deps);
  } catch (err) {
    if (!keepForRetry && !(await mayHoldObject(err, key, deps))) await store.delete(key);
    throw err;
  }
  // A repeated idempotency key: the earlier job has its own image; the one the router just stored is nobody's.
  if (enqueued.earlier && !keepForRetry && !usesObject(enqueued.earlier, key)) await store.delete(key);
  return enqueued.accepted;
}

/**
 * Whether a failed submit's job may still be queued with this object (Redis ran the write but
 * its answer was lost): it is kept then, and when Redis cannot tell; the store's retention
 * rule removes it if no job has it.
 */
async function mayHoldObject(err: unknown, key: string, deps: SubmitDeps): Promise<boolean> {
  if (!(err instanceof EnqueueFailed)) return false;
  try {
    const job = await deps.queue!.records.get(err.jobId);
    return job !== undefined && usesObject(job, key);
  } catch {
    return true;
  }
}

const usesObject = (job: QueuedJob, key: string) => job.source.kind === 's3' && job.source.key === key;

/**
 * Submits an object already in the store by reference. When the submit fails the object is
 * deleted, except, with `keepForRetry`, on a failure the client may retry with the same object.
 */
async function submitObject(store: ObjectStore, key: string, spec: JobSpec, deps: SubmitDeps, ctx: CallContext, keepForRetry: boolean): Promise<Accepted> {
  if (deps.queue) return enqueueStored(store, key, spec, deps, keepForRetry);
  try {
    const job = await deps.pool.submitByReference(spec, await storedImageReference({ bucket: store.bucket, key }, deps.config, store), ctx);
    deps.uploadsByJob.set(job.jobId, key);
    return { job_id: job.jobId, status: jobStatusName(job.state) };
  } catch (err) {
    if (!(keepForRetry && isServiceError(err) && RETRYABLE_GRPC_CODES.has(err.code))) await store.delete(key);
    throw err;
  }
}

/** A multipart upload the router streamed into the store (`s3` mode). */
export async function submitStored(upload: StoredUpload, fields: Record<string, string>, deps: SubmitDeps, ctx: CallContext): Promise<Accepted> {
  const store = deps.store!;
  let spec: JobSpec;
  try {
    spec = specOrBadRequest(fields, ctx);
  } catch (err) {
    await store.delete(upload.object.key);
    throw err;
  }
  spec.image = { contentType: upload.contentType, sizeBytes: upload.object.sizeBytes, sha256: upload.object.sha256, filename: upload.filename };
  return submitObject(store, upload.object.key, spec, deps, ctx, false);
}

/**
 * `upload_id` from POST /uploads (`direct` mode) or from a finished tus upload (its id or URL):
 * the client put the bytes in the store itself.
 * Queued (REDIS_URL), the job is recorded at once and the dispatcher checks the object before
 * it submits; otherwise the router checks it here (exists, fits the limit, is an image by its
 * first bytes) without touching the rest.
 */
export async function submitUploadId(named: unknown, fields: Record<string, unknown>, deps: SubmitDeps, ctx: CallContext): Promise<Accepted> {
  const store = deps.store;
  if (!store) throw new HttpError(400, 'upload_id needs an object store; this router has none', { field: 'upload_id' });
  const uploadId = typeof named === 'string' ? namedUploadId(named) : undefined;
  if (!uploadId) throw new HttpError(400, 'upload_id is not an id from POST /uploads or a tus upload (/files)', { field: 'upload_id' });
  const spec = specOrBadRequest(fields, ctx);
  const claim = await deps.uploadClaims.claim(uploadId, spec.idempotencyKey, ctx.key?.name).catch((err: unknown) => Promise.reject(storeUnavailable(err)));
  // another key's upload is answered as an unknown one: its existence is not confirmed
  if (claim === 'foreign' || claim === 'unknown') throw new HttpError(400, 'upload_id is not an id from POST /uploads or a tus upload (/files)', { field: 'upload_id' });
  // still 'open' with its object complete: the router that took the last byte did not get to record it
  if (claim === 'unfinished' && (await store.exists(uploadKeyFor(uploadId)).catch((err: unknown) => Promise.reject(storeUnavailable(err))))) {
    await settleFinishedUpload(store, deps.uploadClaims, uploadId).catch((err: unknown) => Promise.reject(storeUnavailable(err)));
    return submitUploadId(uploadId, fields, deps, ctx);
  }
  if (claim === 'unfinished') {
    throw new HttpError(409, `this upload is not finished: resume it (HEAD ${TUS_PATH}/${uploadId} gives the offset), then submit`, { field: 'upload_id' });
  }
  if (claim === 'refused') throw new HttpError(415, 'the uploaded file is not a supported image; it has been deleted', { field: 'upload_id' });
  if (claim === 'taken') {
    throw new HttpError(409, 'this upload_id has already been submitted; each upload makes one job (POST /uploads again for another)', { field: 'upload_id' });
  }
  try {
    return await submitClaimedUpload(store, uploadId, spec, deps, ctx);
  } catch (err) {
    // a repeat's claim is the earlier submit's, which may have made its job
    if (claim === 'claimed' && !(err instanceof EnqueueFailed)) await deps.uploadClaims.release(uploadId).catch(() => undefined);
    throw err;
  }
}

async function submitClaimedUpload(store: ObjectStore, uploadId: string, spec: JobSpec, deps: SubmitDeps, ctx: CallContext): Promise<Accepted> {
  const key = uploadKeyFor(uploadId);
  if (deps.queue) return enqueueStored(store, key, spec, deps, true, uploadId);
  let inspection: UploadInspection;
  try {
    inspection = await inspectUpload(store, uploadId, key, deps.config.maxFileBytes);
  } catch (err) {
    throw storeUnavailable(err);
  }
  if (!inspection.ok) throw new HttpError(INSPECTION_STATUS[inspection.problem], inspection.message, { field: 'upload_id' });
  spec.image = { contentType: inspection.contentType, sizeBytes: inspection.sizeBytes, sha256: '', filename: '' };
  try {
    return await submitObject(store, key, spec, deps, ctx, true);
  } catch (err) {
    if (err instanceof HttpError || isServiceError(err)) throw err;
    throw storeUnavailable(err);
  }
}

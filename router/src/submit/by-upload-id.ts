import { CallContext } from '../core/call-context';
import { HttpError, storeUnavailable } from '../http/errors';
import { uploadKeyFor } from '../storage/object-store';
import { settleFinishedUpload } from '../tus/settle';
import { TUS_PATH, namedUploadId } from '../tus/upload-id';
import { Accepted } from './accepted';
import { NamedImagePath, ObjectHandoff } from './paths';
import { EnqueueFailed } from './queued';
import { specOrBadRequest } from './spec';
import { UploadClaims } from './upload-claims';

const NOT_AN_UPLOAD = 'upload_id is not an id from POST /uploads or a tus upload (/files)';

/**
 * `upload_id` from POST /uploads (`direct` mode) or from a finished tus upload (its id or URL):
 * the client put the bytes in the store itself. Each upload makes one job: the submit claims it
 * first. Queued (REDIS_URL), the job is recorded at once and the dispatcher checks the object
 * before it submits; otherwise it is checked here (see ObjectHandoff.submitUpload).
 */
export class UploadIdPath implements NamedImagePath {
  constructor(
    private readonly claims: UploadClaims,
    private readonly objects: ObjectHandoff,
  ) {}

  async submit(named: unknown, fields: Record<string, unknown>, ctx: CallContext): Promise<Accepted> {
    const store = this.objects.store;
    const uploadId = typeof named === 'string' ? namedUploadId(named) : undefined;
    if (!uploadId) throw new HttpError(400, NOT_AN_UPLOAD, { field: 'upload_id' });
    const spec = specOrBadRequest(fields, ctx);
    const claim = await this.claims.claim(uploadId, spec.idempotencyKey, ctx.key?.name).catch((err: unknown) => Promise.reject(storeUnavailable(err)));
    // another key's upload is answered as an unknown one: its existence is not confirmed
    if (claim === 'foreign' || claim === 'unknown') throw new HttpError(400, NOT_AN_UPLOAD, { field: 'upload_id' });
    // still 'open' with its object complete: the router that took the last byte did not get to record it
    if (claim === 'unfinished' && (await store.exists(uploadKeyFor(uploadId)).catch((err: unknown) => Promise.reject(storeUnavailable(err))))) {
      await settleFinishedUpload(store, this.claims, uploadId).catch((err: unknown) => Promise.reject(storeUnavailable(err)));
      return this.submit(uploadId, fields, ctx);
    }
    if (claim === 'unfinished') {
      throw new HttpError(409, `this upload is not finished: resume it (HEAD ${TUS_PATH}/${uploadId} gives the offset), then submit`, { field: 'upload_id' });
    }
    if (claim === 'refused') throw new HttpError(415, 'the uploaded file is not a supported image; it has been deleted', { field: 'upload_id' });
    if (claim === 'taken') {
      throw new HttpError(409, 'this upload_id has already been submitted; each upload makes one job (POST /uploads again for another)', { field: 'upload_id' });
    }
    try {
      return await this.objects.submitUpload(uploadId, spec, ctx);
    } catch (err) {
      // a repeat's claim is the earlier submit's, which may have made its job
      if (claim === 'claimed' && !(err instanceof EnqueueFailed)) await this.claims.release(uploadId).catch(() => undefined);
      throw err;
    }
  }
}

/** A router without an object store has no uploads for an upload_id to name. */
export const NO_UPLOAD_IDS: NamedImagePath = {
  submit: () => Promise.reject(new HttpError(400, 'upload_id needs an object store; this router has none', { field: 'upload_id' })),
};

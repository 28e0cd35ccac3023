import { IncomingMessage } from 'node:http';
import { JobSpec } from '@artorizer/contract';
import { CallContext } from '../core/call-context';
import { asStoreFailure } from '../http/errors';
import { S3Outcome, S3RelayDeps, StoredUpload, relayToStore } from '../upload/s3-relay';
import { Accepted } from './accepted';
import { FormOutcome, MultipartPath, ObjectHandoff } from './paths';
import { specOrBadRequest } from './spec';

/** `s3`: the router streams the upload into the store, then hands the job on by reference. */
export class StoredPath implements MultipartPath {
  constructor(
    private readonly relay: S3RelayDeps,
    private readonly objects: ObjectHandoff,
  ) {}

  async submit(req: IncomingMessage, ctx: CallContext): Promise<FormOutcome> {
    let outcome: S3Outcome;
    try {
      outcome = await relayToStore(req, this.relay);
    } catch (err) {
      throw asStoreFailure(err);
    }
    if (outcome.kind === 'fields') return outcome;
    return { kind: 'accepted', accepted: await submitStoredUpload(outcome.upload, outcome.fields, this.objects, ctx) };
  }
}

/** The job of a multipart upload the router stored; the object is deleted when the fields are refused. */
export async function submitStoredUpload(upload: StoredUpload, fields: Record<string, string>, objects: ObjectHandoff, ctx: CallContext): Promise<Accepted> {
  let spec: JobSpec;
  try {
    spec = specOrBadRequest(fields, ctx);
  } catch (err) {
    await objects.store.delete(upload.object.key);
    throw err;
  }
  spec.image = { contentType: upload.contentType, sizeBytes: upload.object.sizeBytes, sha256: upload.object.sha256, filename: upload.filename };
  return objects.submitObject(upload.object.key, spec, ctx, false);
}

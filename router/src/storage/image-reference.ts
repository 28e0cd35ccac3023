import { ImageReference } from '@artorizer/contract';
import { ObjectStore } from './object-store';

/** How processors are told where a stored image is (`S3_REFERENCE`, `PRESIGN_EXPIRY_SECONDS`). */
export interface ReferenceSettings {
  s3Reference: 'presigned' | 'key';
  presignExpirySeconds: number;
}

/**
 * The reference to an object in the store: a presigned GET, or its bucket and key (for
 * processors with their own credentials) with S3_REFERENCE=key or when there is no store here
 * to presign with (a dispatcher without S3 settings).
 */
export async function storedImageReference(object: { bucket: string; key: string }, settings: ReferenceSettings, store: ObjectStore | undefined): Promise<ImageReference> {
  if (settings.s3Reference === 'key' || !store) return { location: { $case: 's3', s3: { bucket: object.bucket, key: object.key, endpoint: '', region: '' } } };
  return { location: { $case: 'http', http: { url: await store.presignGet(object.key, settings.presignExpirySeconds) } } };
}

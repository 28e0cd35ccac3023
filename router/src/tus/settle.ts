import { SNIFF_BYTES, sniffRaster } from '@artorizer/contract';
import { ObjectStore, uploadKeyFor } from '../storage/object-store';
import { UploadClaims } from '../submit/upload-claims';

/**
 * Decides a finished resumable upload: an image by its first bytes ('done'), or not (deleted
 * with its companions, 'refused'); records it either way. Run when its last byte is in, and
 * again by a submit that finds the upload still 'open' while its object exists (the router
 * died, or Redis failed, between the two).
 */
export async function settleFinishedUpload(store: ObjectStore, claims: UploadClaims, uploadId: string): Promise<'done' | 'refused'> {
  const key = uploadKeyFor(uploadId);
  const head = await store.peek(key, SNIFF_BYTES);
  if (!head || !sniffRaster(head.first)) {
    await store.delete(key);
    await claims.setTusState(uploadId, 'refused');
    return 'refused';
  }
  await claims.setTusState(uploadId, 'done');
  return 'done';
}

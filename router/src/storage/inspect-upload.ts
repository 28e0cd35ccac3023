import { exceedsMaximumSize } from '@artorizer/service-kit';
import { ObjectStore } from './object-store';
import { SNIFF_BYTES, sniffRaster } from '@artorizer/contract';

/** What a direct upload turned out to be; refused objects have already been deleted. */
export type UploadInspection = { ok: true; contentType: string; sizeBytes: number } | { ok: false; problem: 'not_found' | 'too_large' | 'not_an_image'; message: string };

/**
 * Checks an object a client put in the store itself (`direct` mode): it exists, fits the size
 * limit and is an image by its first bytes, from one ranged GET. Store failures are thrown.
 * The synchronous submit answers the problems as 400/413/415; the dispatcher fails the job.
 */
export async function inspectUpload(store: ObjectStore, uploadId: string, key: string, maxBytes: number): Promise<UploadInspection> {
  const head = await store.peek(key, SNIFF_BYTES);
  if (!head) return { ok: false, problem: 'not_found', message: `upload ${uploadId} not found: PUT the image to the URL from POST /uploads first (or it expired)` };
  if (head.sizeBytes > maxBytes) {
    await store.delete(key);
    return { ok: false, problem: 'too_large', message: exceedsMaximumSize(maxBytes) };
  }
  const type = sniffRaster(head.first)?.contentType;
  if (!type) {
    await store.delete(key);
    return { ok: false, problem: 'not_an_image', message: 'the uploaded object is not a supported image' };
  }
  return { ok: true, contentType: head.contentType || type, sizeBytes: head.sizeBytes };
}

import { Readable } from 'node:stream';
import { HttpError } from '../http/errors';
import { SNIFF_BYTES, sniffImageType } from './sniff';

/**
 * Re-cuts an upload into chunks of `size` bytes (the last may be shorter) and checks the
 * first bytes are an image (415 otherwise). Pulling from it is what applies backpressure.
 */
export async function* imageChunks(source: AsyncIterable<Buffer>, size: number): AsyncGenerator<Buffer> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let sniffed = false;
  for await (const piece of source) {
    pending.push(piece);
    pendingBytes += piece.length;
    if (!sniffed && pendingBytes >= SNIFF_BYTES) {
      checkImage(Buffer.concat(pending));
      sniffed = true;
    }
    while (sniffed && pendingBytes >= size) {
      const all = pending.length === 1 ? pending[0] : Buffer.concat(pending);
      yield all.subarray(0, size);
      const rest = all.subarray(size);
      pending = rest.length ? [rest] : [];
      pendingBytes = rest.length;
    }
  }
  if (!sniffed) checkImage(Buffer.concat(pending));
  if (pendingBytes > 0) yield pending.length === 1 ? pending[0] : Buffer.concat(pending);
}

function checkImage(head: Buffer): void {
  if (head.length === 0) throw new HttpError(400, 'the image file is empty', { field: 'image' });
  if (!sniffImageType(head)) throw new HttpError(415, 'the uploaded file is not a supported image (png, jpeg, gif, webp, tiff, bmp, avif, heif)', { field: 'image' });
}

/** A file stream as an iterator that leaves the stream alive when the consumer stops early. */
export function keepAlive(stream: Readable): AsyncIterable<Buffer> {
  return stream.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>;
}

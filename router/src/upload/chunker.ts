import { Readable } from 'node:stream';
import { HttpError } from '../http/errors';
import { SNIFF_BYTES, sniffImageType } from './sniff';

/**
 * Re-cuts an upload into chunks of `size` bytes (the last may be shorter) and checks the
 * first bytes are an image (415 otherwise). Pulling from it is what applies backpressure.
 *
 * Each byte is copied at most once: pieces are copied into a fresh `size`-byte buffer that is
 * handed out when full (never concatenated and re-sliced), and a whole chunk that lies inside
 * one piece is handed out as a view of it. The chunks are the consumer's to keep, unless it
 * passes a `pool` and gives chunks back to it once it no longer needs them (they are then
 * refilled).
 */
export async function* imageChunks(source: AsyncIterable<Buffer>, size: number, pool?: ChunkPool): AsyncGenerator<Buffer> {
  const cutter = new Cutter(size, pool);
  let head: Buffer[] = [];
  let headBytes = 0;
  for await (const piece of source) {
    if (head.length === 0 && headBytes > 0) {
      yield* cutter.push(piece);
      continue;
    }
    // the first SNIFF_BYTES decide whether anything is relayed at all
    head.push(piece);
    headBytes += piece.length;
    if (headBytes < SNIFF_BYTES) continue;
    checkImage(head.length === 1 ? head[0] : Buffer.concat(head));
    for (const early of head) yield* cutter.push(early);
    head = [];
  }
  if (head.length > 0 || headBytes === 0) checkImage(Buffer.concat(head));
  for (const early of head) yield* cutter.push(early);
  const rest = cutter.rest();
  if (rest) yield rest;
}

/**
 * Chunk buffers of one upload, for a consumer that is done with each chunk soon after it was
 * handed out (it was serialized into a message): reusing them spares allocating, and later
 * garbage-collecting, a fresh buffer per chunk.
 */
export class ChunkPool {
  private readonly spare: Buffer[] = [];
  private readonly own = new WeakSet<Buffer>();

  constructor(
    readonly size: number,
    private readonly keep = 4,
  ) {}

  take(): Buffer {
    const reused = this.spare.pop();
    if (reused) return reused;
    const fresh = Buffer.allocUnsafe(this.size);
    this.own.add(fresh);
    return fresh;
  }

  /** Hands a chunk back. Only whole buffers of this pool are kept (not views, not the short last chunk). */
  give(chunk: Buffer): void {
    if (this.own.has(chunk) && this.spare.length < this.keep) this.spare.push(chunk);
  }
}

class Cutter {
  private chunk?: Buffer;
  private filled = 0;

  constructor(
    private readonly size: number,
    private readonly pool?: ChunkPool,
  ) {}

  *push(piece: Buffer): Generator<Buffer> {
    let offset = 0;
    while (offset < piece.length) {
      if (this.filled === 0 && piece.length - offset >= this.size) {
        yield piece.subarray(offset, offset + this.size);
        offset += this.size;
        continue;
      }
      this.chunk ??= this.pool?.size === this.size ? this.pool.take() : Buffer.allocUnsafe(this.size);
      const copied = piece.copy(this.chunk, this.filled, offset, Math.min(piece.length, offset + this.size - this.filled));
      this.filled += copied;
      offset += copied;
      if (this.filled === this.size) {
        const full = this.chunk;
        this.chunk = undefined;
        this.filled = 0;
        yield full;
      }
    }
  }

  /** What is left after the last piece: the short last chunk, or nothing. */
  rest(): Buffer | undefined {
    if (!this.chunk || this.filled === 0) return undefined;
    const last = this.chunk.subarray(0, this.filled);
    this.chunk = undefined;
    this.filled = 0;
    return last;
  }
}

function checkImage(head: Buffer): void {
  if (head.length === 0) throw new HttpError(400, 'the image file is empty', { field: 'image' });
  if (!sniffImageType(head)) throw new HttpError(415, 'the uploaded file is not a supported image (png, jpeg, gif, webp, tiff, bmp, avif, heif)', { field: 'image' });
}

/** A file stream as an iterator that leaves the stream alive when the consumer stops early. */
export function keepAlive(stream: Readable): AsyncIterable<Buffer> {
  return stream.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>;
}

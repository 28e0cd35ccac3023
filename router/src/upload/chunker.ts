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
 *
 * With `maxWaitMs`, a partly filled chunk is handed out anyway once its first byte has waited
 * that long for the rest: on a slow upload big chunks would otherwise turn the relay into
 * store-and-forward, chunk by chunk (a 1 MiB chunk takes 84 ms to arrive at 100 Mbit/s),
 * while on a fast one they fill long before and the big chunks' lower cost per byte stays.
 */
export async function* imageChunks(source: Readable, size: number, pool?: ChunkPool, maxWaitMs = 0): AsyncGenerator<Buffer> {
  const cutter = new Cutter(size, pool);
  let head: Buffer[] = [];
  let headBytes = 0;
  for (;;) {
    const waitMs = maxWaitMs > 0 && cutter.heldSince !== undefined ? cutter.heldSince + maxWaitMs - performance.now() : undefined;
    const piece = await nextPiece(source, waitMs);
    if (piece === WAITED_ENOUGH) {
      yield cutter.rest()!;
      continue;
    }
    if (piece === null) break;
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

const WAITED_ENOUGH = Symbol('waited enough');

/**
 * What the stream has buffered, or the next bytes to arrive; null at the end; WAITED_ENOUGH
 * when nothing came within `waitMs`. Nothing is left listening or reading once it returns, so
 * the caller may stop at any point and leave the stream to someone else (e.g. to drain it).
 */
async function nextPiece(stream: Readable, waitMs: number | undefined): Promise<Buffer | null | typeof WAITED_ENOUGH> {
  for (;;) {
    const piece = stream.read() as Buffer | null;
    if (piece !== null) return piece;
    if (stream.errored) throw stream.errored;
    if (stream.readableEnded) return null;
    // destroyed before its end (the client went away): the file is incomplete, never a whole one
    if (stream.destroyed) throw Object.assign(new Error('the file stream closed before its end'), { code: 'ERR_STREAM_PREMATURE_CLOSE' });
    if (waitMs !== undefined && waitMs <= 0) return WAITED_ENOUGH;
    const woke = await new Promise<'more' | typeof WAITED_ENOUGH>((resolve, reject) => {
      const more = () => settle(() => resolve('more'));
      const fail = (err: Error) => settle(() => reject(err));
      const timer = waitMs === undefined ? undefined : setTimeout(() => settle(() => resolve(WAITED_ENOUGH)), waitMs);
      const settle = (then: () => void) => {
        clearTimeout(timer);
        stream.off('readable', more).off('end', more).off('close', more).off('error', fail);
        then();
      };
      stream.on('readable', more).on('end', more).on('close', more).on('error', fail);
    });
    if (woke === WAITED_ENOUGH) return WAITED_ENOUGH;
  }
}

/**
 * Chunk buffers of one upload, for a consumer that is done with each chunk soon after it was
 * handed out (it was serialized into a message): reusing them spares allocating, and later
 * garbage-collecting, a fresh buffer per chunk.
 */
export class ChunkPool {
  private readonly spare: Buffer[] = [];
  private readonly own = new WeakSet<ArrayBufferLike>();

  constructor(
    readonly size: number,
    private readonly keep = 4,
  ) {}

  take(): Buffer {
    const reused = this.spare.pop();
    if (reused) return reused;
    // its own ArrayBuffer (never a slice of Node's shared pool), which identifies it in give()
    const fresh = Buffer.allocUnsafeSlow(this.size);
    this.own.add(fresh.buffer);
    return fresh;
  }

  /** Hands a chunk back: a buffer of this pool, or a short chunk cut from the start of one. */
  give(chunk: Buffer): void {
    if (this.own.has(chunk.buffer) && chunk.byteOffset === 0 && this.spare.length < this.keep) this.spare.push(Buffer.from(chunk.buffer, 0, this.size));
  }
}

class Cutter {
  private chunk?: Buffer;
  private filled = 0;
  /** performance.now() when the chunk being filled got its first byte. */
  heldSince?: number;

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
      if (this.filled === 0) this.heldSince = performance.now();
      const copied = piece.copy(this.chunk, this.filled, offset, Math.min(piece.length, offset + this.size - this.filled));
      this.filled += copied;
      offset += copied;
      if (this.filled === this.size) {
        const full = this.chunk;
        this.chunk = undefined;
        this.filled = 0;
        this.heldSince = undefined;
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
    this.heldSince = undefined;
    return last;
  }
}

function checkImage(head: Buffer): void {
  if (head.length === 0) throw new HttpError(400, 'the image file is empty', { field: 'image' });
  if (!sniffImageType(head)) throw new HttpError(415, 'the uploaded file is not a supported image (png, jpeg, gif, webp, tiff, bmp, avif, heif)', { field: 'image' });
}

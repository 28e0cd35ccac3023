import { Readable } from 'node:stream';
import { ACCEPTED_TYPES_TEXT, allocChunkBuffer, isChunkBuffer } from '@artorizer/contract';
import { HttpError } from '../http/errors';
import { SNIFF_BYTES, sniffRaster } from '@artorizer/contract';

/**
 * The consumer's side of flushing: whether everything handed out so far has been sent, and a
 * wake-up for when it has.
 */
export interface Downstream {
  readonly idle: boolean;
  /** Resolves the next time `idle` turns true (at once when it is). */
  whenIdle(): Promise<void>;
}

export interface ChunkOptions {
  /** Buffers to cut into; the consumer gives each chunk back once it no longer needs it. */
  pool?: ChunkPool;
  /**
   * With a downstream, a partly filled chunk is handed out as soon as the source has nothing
   * more for the moment and the downstream is idle: the next hop is never left waiting for a
   * chunk to fill (on loopback a 1 MiB upload would otherwise cross it store-and-forward, and
   * on a slow link every chunk would), while a busy downstream lets chunks grow to `size`.
   */
  downstream?: Downstream;
}

/**
 * Re-cuts an upload into chunks of at most `size` bytes and checks the first bytes are an
 * image (415 otherwise). Pulling from it is what applies backpressure.
 *
 * Each byte is copied at most once: pieces are copied into a `size`-byte buffer that is
 * handed out when full (never concatenated and re-sliced), and a whole chunk that lies inside
 * one piece is handed out as a view of it. The chunks are the consumer's to keep, unless it
 * passes a `pool`.
 */
export async function* imageChunks(source: Readable, size: number, options: ChunkOptions = {}): AsyncGenerator<Buffer> {
  const cutter = new Cutter(size, options.pool);
  const pieces = new PieceReader(source);
  let head: Buffer[] = [];
  let headBytes = 0;
  try {
    for (;;) {
      const piece = await pieces.next(cutter.holding ? options.downstream : undefined);
      if (piece === FLUSH) {
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
  } finally {
    pieces.stop();
  }
  if (head.length > 0 || headBytes === 0) checkImage(Buffer.concat(head));
  for (const early of head) yield* cutter.push(early);
  const rest = cutter.rest();
  if (rest) yield rest;
}

const FLUSH = Symbol('flush');

/**
 * Reads a stream piece by piece for one consumer. Its listeners are attached once, for as long
 * as it reads (attaching and removing them around every wait cost a closure per piece and a
 * tick per removal, a good part of the router's CPU per MiB); `stop` removes them, so the
 * caller may leave the stream to someone else (e.g. to drain it).
 */
class PieceReader {
  private wake?: (why: 'more' | typeof FLUSH) => void;
  private fail?: (err: Error) => void;
  private readonly more = () => this.settle('more');
  private readonly failed = (err: Error) => {
    const fail = this.fail;
    this.wake = this.fail = undefined;
    fail?.(err);
  };

  constructor(private readonly stream: Readable) {
    stream.on('readable', this.more).on('end', this.more).on('close', this.more).on('error', this.failed);
  }

  stop(): void {
    this.stream.off('readable', this.more).off('end', this.more).off('close', this.more).off('error', this.failed);
  }

  /**
   * What the stream has buffered, or the next bytes to arrive; null at the end; FLUSH when the
   * stream has nothing for now and `downstream` (given while part of a chunk is held) is idle.
   */
  async next(downstream: Downstream | undefined): Promise<Buffer | null | typeof FLUSH> {
    const { stream } = this;
    for (;;) {
      const piece = stream.read() as Buffer | null;
      if (piece !== null) return piece;
      if (stream.errored) throw stream.errored;
      if (stream.readableEnded) return null;
      // destroyed before its end (the client went away): the file is incomplete, never a whole one
      if (stream.destroyed) throw Object.assign(new Error('the file stream closed before its end'), { code: 'ERR_STREAM_PREMATURE_CLOSE' });
      if (downstream?.idle) return FLUSH;
      const woke = await new Promise<'more' | typeof FLUSH>((resolve, reject) => {
        this.wake = resolve;
        this.fail = reject;
        // only this wait: an earlier wait's idle downstream must not flush a later one
        if (downstream) void downstream.whenIdle().then(() => this.wake === resolve && this.settle(FLUSH));
      });
      if (woke === FLUSH) return FLUSH;
    }
  }

  private settle(why: 'more' | typeof FLUSH): void {
    const wake = this.wake;
    this.wake = this.fail = undefined;
    wake?.(why);
  }
}

/**
 * Chunk buffers for consumers that are done with each chunk soon after it was handed out (it
 * was serialized into a message): reusing them spares allocating, and later
 * garbage-collecting, a fresh buffer per chunk. One pool may serve many uploads, so a buffer
 * is taken back only once per time it was handed out: a second `give` of the same chunk
 * would let two uploads cut into one buffer.
 */
export class ChunkPool {
  private readonly spare: Buffer[] = [];
  /** The buffers handed out and not given back (weak: a chunk never given back is simply collected). */
  private readonly out = new WeakSet<ArrayBufferLike>();

  constructor(
    readonly size: number,
    private readonly keep = 4,
  ) {}

  take(): Buffer {
    // with room for the gRPC message header in front, so the chunk is sent without a copy
    const chunk = this.spare.pop() ?? allocChunkBuffer(this.size);
    this.out.add(chunk.buffer);
    return chunk;
  }

  /** Hands a chunk back: a buffer this pool handed out, or a short chunk cut from the start of one. */
  give(chunk: Buffer): void {
    if (!this.out.has(chunk.buffer) || !isChunkBuffer(chunk)) return;
    this.out.delete(chunk.buffer);
    if (this.spare.length < this.keep) this.spare.push(Buffer.from(chunk.buffer, chunk.byteOffset, this.size));
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

  /** Whether part of a chunk is waiting for more bytes. */
  get holding(): boolean {
    return this.filled > 0;
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
  if (!sniffRaster(head)) throw new HttpError(415, `the uploaded file is not a supported image (${ACCEPTED_TYPES_TEXT})`, { field: 'image' });
}

import { Readable } from 'node:stream';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { CHUNK_HEAD_MAX_BYTES, GRPC_FRAME_HEADER_BYTES, SubmitJobRequest, chunkPayloadOffset, decodeSubmitJobRequest } from '@artorizer/contract';
import { ProcessorError, cancelled } from '../core/errors';

/**
 * What a SubmitJob request stream carries, read straight off its HTTP/2 DATA frames: whole
 * messages (the spec, an abort, anything unusual), or the bytes of a chunk message as they
 * arrived, each a view of the frame it came in. A 1 MiB chunk arrives in 64 frames of 16 KiB; a
 * gRPC library gathers them into one fresh 1 MiB buffer per message before decoding it, and
 * those copies and the collections they cause were most of the processor's cost per MiB.
 */
export type UploadItem = { message: SubmitJobRequest } | { pieces: Buffer[] };

/** Bytes held from the stream, beyond what the reader waits for, before it is paused (HTTP/2 flow control then holds the sender back). */
const READ_AHEAD_BYTES = 1024 * 1024;

/**
 * The stream's bytes, read by exact counts or as views of the buffers they arrived in. A reader
 * waiting for n bytes is woken once they are all here, not at each 16 KiB frame: a wake per
 * frame (a promise and a few async hops each) made the processor read 1 MiB over HTTP/2 at
 * about a third of the rate Node's HTTP/2 delivers it.
 */
class FrameReader {
  private held: Buffer[] = [];
  private heldBytes = 0;
  /** What the waiting reader needs held before it is woken (0 when none waits). */
  private wanted = 0;
  private ended = false;
  private discarding = false;
  private failure?: Error;
  private wake?: () => void;

  constructor(private readonly stream: Readable) {
    stream.on('data', (data: Buffer) => {
      if (data.length === 0 || this.discarding) return;
      this.held.push(data);
      this.heldBytes += data.length;
      if (this.heldBytes >= Math.max(this.wanted, READ_AHEAD_BYTES)) stream.pause();
      if (this.wanted > 0 && this.heldBytes >= this.wanted) this.signal();
    });
    stream.once('end', () => this.finish());
    // closed before its end: reset by the client, or its connection went away
    stream.once('close', () => this.finish(cancelled('client cancelled the upload')));
    stream.once('error', (err: Error) => this.finish(err));
  }

  /**
   * Drops what is held and whatever still comes, reading the stream to its end. Once the upload
   * is answered nothing reads it any more, and a stream left paused would never see the
   * client's end or reset (it would stay open, and the server could not shut down); grpc-js
   * drains the same way.
   */
  discard(): void {
    this.discarding = true;
    this.held = [];
    this.heldBytes = 0;
    this.stream.resume();
  }

  /** `n` bytes in one buffer; undefined when the stream ends before the first of them. */
  async exact(n: number): Promise<Buffer | undefined> {
    if (!(await this.need(n))) {
      if (this.heldBytes === 0) return undefined;
      throw truncated();
    }
    const pieces = this.take(n);
    // bytes across frames (a header cut by a frame's end): only those n are copied
    return pieces.length === 1 ? pieces[0] : Buffer.concat(pieces, n);
  }

  /** The next `n` bytes, once all have arrived, as views of the buffers they arrived in. */
  async pieces(n: number): Promise<Buffer[]> {
    if (!(await this.need(n))) throw truncated();
    return this.take(n);
  }

  /** Whether `n` bytes are held, waiting for them; false when the stream ended before. */
  private async need(n: number): Promise<boolean> {
    while (this.heldBytes < n) {
      if (this.failure) throw this.failure;
      if (this.ended) return false;
      this.wanted = n;
      if (this.stream.isPaused()) this.stream.resume();
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
    this.wanted = 0;
    return true;
  }

  private finish(err?: Error): void {
    if (this.ended) return;
    this.ended = true;
    this.failure = err;
    this.signal();
  }

  private signal(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  /** The first `n` held bytes (all held), as views, no longer held. */
  private take(n: number): Buffer[] {
    const out: Buffer[] = [];
    for (let left = n; left > 0;) {
      const first = this.held[0];
      const take = Math.min(left, first.length);
      out.push(first.subarray(0, take));
      if (take === first.length) this.held.shift();
      else this.held[0] = first.subarray(take);
      left -= take;
    }
    this.heldBytes -= n;
    return out;
  }
}

function truncated(): ProcessorError {
  return new ProcessorError(GrpcStatus.INTERNAL, 'the request stream ended inside a message');
}

/**
 * The messages of a SubmitJob request (uncompressed, as `grpc-encoding: identity` says). A
 * message that is exactly one non-empty `chunk` field is passed on as pieces; any other is
 * decoded whole. Messages over `maxMessageBytes` are refused as a gRPC library refuses them.
 * `discard` reads the rest of the stream and drops it (once the upload has been answered).
 */
export function readSubmitJob(stream: Readable, maxMessageBytes: number): { items: AsyncGenerator<UploadItem>; discard(): void } {
  const reader = new FrameReader(stream);
  return { items: submitJobItems(reader, maxMessageBytes), discard: () => reader.discard() };
}

async function* submitJobItems(reader: FrameReader, maxMessageBytes: number): AsyncGenerator<UploadItem> {
  for (;;) {
    const header = await reader.exact(GRPC_FRAME_HEADER_BYTES);
    if (!header) return;
    if (header[0] !== 0) throw new ProcessorError(GrpcStatus.INTERNAL, 'a compressed message on a stream whose grpc-encoding is identity');
    const length = header.readUInt32BE(1);
    if (length > maxMessageBytes) {
      throw new ProcessorError(GrpcStatus.RESOURCE_EXHAUSTED, `Received message larger than max (${length} vs. ${maxMessageBytes})`);
    }
    const head = length === 0 ? Buffer.alloc(0) : await reader.exact(Math.min(length, CHUNK_HEAD_MAX_BYTES));
    if (!head) throw truncated();
    const payloadAt = chunkPayloadOffset(head, length);
    if (payloadAt !== undefined && length > head.length) {
      const first = head.subarray(payloadAt);
      const rest = await reader.pieces(length - head.length);
      yield { pieces: first.length > 0 ? [first, ...rest] : rest };
      continue;
    }
    const rest = length > head.length ? await reader.exact(length - head.length) : undefined;
    if (length > head.length && !rest) throw truncated();
    yield { message: decode(rest ? Buffer.concat([head, rest]) : head) };
  }
}

function decode(bytes: Buffer): SubmitJobRequest {
  try {
    return decodeSubmitJobRequest(bytes);
  } catch (err) {
    throw new ProcessorError(GrpcStatus.INTERNAL, `a request message could not be decoded: ${err instanceof Error ? err.message : String(err)}`);
  }
}

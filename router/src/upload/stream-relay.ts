import { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { FilePart, FormSink } from '@artorizer/service-kit';
import { CHUNK_HEADER_ROOM, FieldError, Job, JobSpec, encodedChunkBytes, jobSpecFromFields, safeFileName } from '@artorizer/contract';
import { CallContext } from '../core/call-context';
import { ProcessorPool } from '../grpc/processor-pool';
import { UploadCall } from '../grpc/submit-job-channel';
import { fieldErrorToHttp } from '../http/field-error';
import { toHttpError } from '../http/errors';
import { Metrics } from '../metrics';
import { ChunkPool, Downstream, imageChunks } from './chunker';
import { readUploadForm, refuseUndeclaredImage } from './form';
import { Spool, spoolFile, spooledChunks } from './spool';
import { ownedSpec } from '../security/ownership';

/**
 * Chunk messages written to the SubmitJob call and not yet handed to HTTP/2, counted by their
 * write callbacks rather than by `write()`'s answer (grpc-js queues 16 messages, an object-mode
 * stream's default, before it says no: 16 MiB per upload with 1 MiB chunks); one being sent and
 * one ready is enough to keep the connection busy.
 */
const MESSAGES_IN_FLIGHT = 2;

/**
 * Gives an upload up: an `abort` message, then the end of the stream. A cancel alone is not
 * enough: Node's HTTP/2 client ends a stream before it resets it, and a processor that reads
 * the end first would take the bytes sent so far for a complete image. Messages of one stream
 * arrive in order, so the processor reads the abort before the end; a processor that no
 * longer reads gets the call cancelled after ABORT_GRACE_MS.
 */
function abandon(upload: Upload | undefined, why: unknown): void {
  if (!upload || upload.abandoned) return;
  upload.abandoned = true;
  const { call } = upload;
  if (call.writableEnded || call.destroyed) {
    call.cancel();
    return;
  }
  call.write({ payload: { $case: 'abort', abort: { reason: why instanceof Error ? why.message : String(why) } } });
  call.end();
  const timer = setTimeout(() => call.cancel(), ABORT_GRACE_MS).unref();
  upload.done.finally(() => clearTimeout(timer)).catch(() => undefined);
}

const ABORT_GRACE_MS = 1000;

export interface StreamRelayDeps {
  pool: ProcessorPool;
  metrics: Metrics;
  maxFileBytes: number;
  spoolDir: string;
  /** The chunk buffers every upload of this process cuts into (`relayBuffers`). */
  buffers: ChunkPool;
}

/**
 * Spare chunk buffers kept between uploads (each `payloadBytes(chunkBytes)`, 1 MiB by default).
 * A buffer per upload was 1 MiB of fresh off-heap memory for every request, a 10 KiB one
 * included, and V8 answers that much external memory with full collections: they were most
 * of a warm router's CPU for small uploads. An upload holds at most MESSAGES_IN_FLIGHT + 1, so
 * 16 uploads at once hold 48: with 8 spares, every such burst allocated 40 again, and the
 * collections were the largest part of the router's CPU in it. The pool keeps only buffers it
 * handed out, so a router that never had more than a few uploads at once keeps a few; 64 covers
 * 21 at once (64 MiB at most, kept after such a burst).
 */
const SPARE_CHUNK_BUFFERS = 64;

/** The one chunk pool of a process's stream relays. */
export function relayBuffers(chunkBytes: number): ChunkPool {
  return new ChunkPool(payloadBytes(chunkBytes), SPARE_CHUNK_BUFFERS);
}

/** What a multipart request turned out to be: an accepted upload, or fields only (image_url). */
export type MultipartOutcome = { kind: 'job'; job: Job } | { kind: 'fields'; fields: Record<string, string> };

interface Upload {
  call: UploadCall;
  done: Promise<Job>;
  /** Set by `abandon`, which gives an upload up once. */
  abandoned?: boolean;
}

/** Image bytes per chunk message, so that the encoded SubmitJobRequest is at most `chunkBytes`. */
export function payloadBytes(chunkBytes: number): number {
  let payload = chunkBytes - CHUNK_HEADER_ROOM;
  while (encodedChunkBytes(payload + 1) <= chunkBytes) payload++;
  return payload;
}

/** Required fields missing is the one spec failure that late fields can still fix. */
function missingRequired(err: unknown): boolean {
  return err instanceof FieldError && err.missing;
}

/**
 * Relays one multipart upload to a processor's SubmitJob while it arrives.
 *
 * Metadata fields that precede the file are turned into the spec and the file is written
 * into the gRPC stream chunk by chunk, pulling from busboy only as fast as gRPC drains.
 * When the required fields have not arrived by the time the file starts, the file is
 * spooled to a temporary file and relayed after the form ends. A field that arrives after
 * a file has started streaming is refused (its spec was already sent).
 */
class StreamRelay implements FormSink<void> {
  private upload?: Upload;
  private spool?: Spool;
  private part?: FilePart;
  private failure?: unknown;
  private readonly failed: Promise<void>;
  private signalFailure!: () => void;

  constructor(
    private readonly req: IncomingMessage,
    private readonly deps: StreamRelayDeps,
    private readonly ctx: CallContext,
  ) {
    this.failed = new Promise((resolve) => (this.signalFailure = resolve));
  }

  /** The form failed: give the upload up and stop the send loop. */
  abort(err: unknown): void {
    if (this.failure !== undefined) return;
    this.failure = err;
    abandon(this.upload, err);
    this.signalFailure();
  }

  /** Once the spec has been sent, a field can no longer be part of it; a spooled file takes every field. */
  refusesLateField(): boolean {
    return this.upload !== undefined;
  }

  async run(): Promise<MultipartOutcome> {
    try {
      const { fields, file } = await readUploadForm(this.req, this.deps.maxFileBytes, this);
      if (!file) return { kind: 'fields', fields };
      if (this.spool) return { kind: 'job', job: await this.relaySpool(this.spool, fields) };
      this.upload!.call.end();
      return { kind: 'job', job: await this.upload!.done };
    } catch (err) {
      abandon(this.upload, err);
      throw toHttpError(err) ?? err;
    } finally {
      // the form settles only once the file's task has (a spool exists only once that task ends)
      if (this.spool) await this.spool.remove();
    }
  }

  async open(stream: Readable, part: FilePart, fieldsBefore: Readonly<Record<string, string>>): Promise<void> {
    this.part = part;
    refuseUndeclaredImage(part);
    let spec: JobSpec;
    try {
      spec = ownedSpec(jobSpecFromFields(fieldsBefore), this.ctx.key);
    } catch (err) {
      if (!missingRequired(err)) throw fieldErrorToHttp(err);
      const buffers = this.deps.buffers;
      this.spool = await spoolFile(imageChunks(stream, buffers.size, { pool: buffers }), this.deps.spoolDir, buffers);
      return;
    }
    this.upload = this.deps.pool.openUpload(this.ctx);
    this.upload.done.catch(() => undefined);
    // chunk buffers are reused, by this upload or another, once the call is done with them (their write callback)
    const buffers = this.deps.buffers;
    const sending = new InFlight();
    await this.send(withImage(spec, part), imageChunks(stream, buffers.size, { pool: buffers, downstream: sending }), this.upload, sending);
  }

  /**
   * Writes the spec, then each chunk, pulling the next chunk only while fewer than
   * MESSAGES_IN_FLIGHT written chunks wait to be sent. Once the call has ended (the processor
   * answered or the call was cancelled) the rest of the file is read and dropped.
   */
  private async send(spec: JobSpec, chunks: AsyncIterable<Buffer>, upload: Upload, sending = new InFlight()): Promise<void> {
    const { call, done } = upload;
    const buffers = this.deps.buffers;
    let ended = false;
    const finish = () => {
      ended = true;
      sending.interrupt();
    };
    done.then(finish, finish);
    void this.failed.then(() => sending.interrupt());
    call.write({ payload: { $case: 'spec', spec } });
    this.deps.metrics.inflightUploads.inc();
    try {
      for await (const chunk of chunks) {
        if (this.failure !== undefined) return;
        this.deps.metrics.bytesRelayed.inc({ mode: 'stream' }, chunk.length);
        if (ended) {
          buffers.give(chunk);
          continue;
        }
        sending.add();
        // the callback comes once the bytes are handed to HTTP/2 (grpc-js's retries buffer nothing, see the pool)
        call.write({ payload: { $case: 'chunk', chunk } }, () => {
          buffers.give(chunk);
          sending.sent();
        });
        while (sending.count >= MESSAGES_IN_FLIGHT && !ended && this.failure === undefined) await sending.change();
      }
    } finally {
      this.deps.metrics.inflightUploads.dec();
    }
  }

  private async relaySpool(spool: Spool, fields: Record<string, string>): Promise<Job> {
    const spec = (() => {
      try {
        return ownedSpec(jobSpecFromFields(fields), this.ctx.key);
      } catch (err) {
        throw fieldErrorToHttp(err);
      }
    })();
    const upload = this.deps.pool.openUpload(this.ctx);
    this.upload = upload;
    upload.done.catch(() => undefined);
    const buffers = this.deps.buffers;
    const declared = withImage(spec, this.part!);
    await this.send({ ...declared, image: { ...declared.image!, sizeBytes: spool.sizeBytes } }, spooledChunks(spool.path, buffers), upload);
    upload.call.end();
    return upload.done;
  }
}

/** Chunk messages written to the call and not yet sent: what the send loop and the chunker wait on. */
class InFlight implements Downstream {
  count = 0;
  private waiters: (() => void)[] = [];
  private idleWaiters: (() => void)[] = [];

  get idle(): boolean {
    return this.count === 0;
  }

  add(): void {
    this.count++;
  }

  sent(): void {
    this.count--;
    this.wake(this.waiters);
    if (this.count === 0) this.wake(this.idleWaiters);
  }

  /** Wakes every waiter, e.g. when the call has ended and nothing will be sent any more. */
  interrupt(): void {
    this.wake(this.waiters);
    this.wake(this.idleWaiters);
  }

  /** Resolves at the next change of `count` (or interrupt). */
  change(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  whenIdle(): Promise<void> {
    if (this.idle) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private wake(list: (() => void)[]): void {
    for (const resolve of list.splice(0, list.length)) resolve();
  }
}

function withImage(spec: JobSpec, part: FilePart): JobSpec {
  return { ...spec, image: { contentType: part.mimeType, sizeBytes: 0, sha256: '', filename: safeFileName(part.filename) } };
}

export function relayMultipart(req: IncomingMessage, deps: StreamRelayDeps, ctx: CallContext): Promise<MultipartOutcome> {
  return new StreamRelay(req, deps, ctx).run();
}

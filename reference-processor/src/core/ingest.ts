import { createHash } from 'node:crypto';
import { once } from 'node:events';
import fs from 'node:fs';
import { ImageTooLargeError, dataLoss } from './errors';

export interface IngestLimits {
  maxBytes: number;
  /** Declared exact size, or 0 when unknown. */
  declaredSize?: number;
  /** Declared lowercase hex sha256, or empty. */
  declaredSha256?: string;
}

export interface IngestedFile {
  path: string;
  sizeBytes: number;
  /**
   * Lowercase hex sha256, computed on the way in only when one was declared (to check it);
   * otherwise the job computes it (`withSha256`), after the upload has been answered.
   */
  sha256?: string;
}

export type HashedFile = IngestedFile & { sha256: string };

/**
 * Bytes the file writer may hold before the loop waits for the disk. With the stream default
 * (16 KiB) every chunk of an upload waited for its own write to finish before the next was
 * read; a few chunks' worth lets reading the network and writing the disk overlap (queued
 * chunks go out in one writev), and still bounds what an upload holds in memory.
 */
const WRITE_BUFFER_BYTES = 1024 * 1024;

function isBatch(chunk: Uint8Array | readonly Uint8Array[]): chunk is readonly Uint8Array[] {
  return Array.isArray(chunk);
}

/**
 * Writes chunks (one at a time, or in batches as they arrived) to `file` as they arrive
 * (pulling, so the producer is held back while the disk is slower), enforcing the size cap
 * and the declared size and sha256. On any failure the partial file is removed before the
 * error propagates. Hashing costs about 0.6 ms of CPU per MiB here, on the upload's critical
 * path, so an upload that declares no sha256 is not hashed here.
 */
export async function ingestToFile(chunks: AsyncIterable<Uint8Array | readonly Uint8Array[]>, file: string, limits: IngestLimits): Promise<IngestedFile> {
  const hash = limits.declaredSha256 ? createHash('sha256') : undefined;
  const out = fs.createWriteStream(file, { flags: 'wx', highWaterMark: WRITE_BUFFER_BYTES });
  // Writes are not awaited one by one: a failed one is reported here and thrown below; after a
  // failure of our own the stream is destroyed and its queued writes fail quietly.
  let writeError: unknown;
  out.on('error', (err) => (writeError ??= err));
  let size = 0;
  try {
    for await (const batch of chunks) {
      if (writeError !== undefined) throw writeError;
      // Held back by the disk only once more has arrived: waiting after each batch instead made
      // the end of an upload wait for its last write before it was even seen.
      if (out.writableNeedDrain) await once(out, 'drain');
      // a batch goes to the disk in one write (writev), not a write for its first piece and one for the rest
      out.cork();
      for (const chunk of isBatch(batch) ? batch : [batch]) {
        size += chunk.length;
        if (size > limits.maxBytes) {
          throw new ImageTooLargeError(limits.maxBytes);
        }
        if (limits.declaredSize && size > limits.declaredSize) {
          throw dataLoss(`received more than the declared ${limits.declaredSize} bytes`);
        }
        hash?.update(chunk);
        out.write(chunk);
      }
      out.uncork();
    }
    if (writeError !== undefined) throw writeError;
    out.end();
    await once(out, 'finish');
    const sha256 = hash?.digest('hex');
    if (limits.declaredSize && size !== limits.declaredSize) {
      throw dataLoss(`received ${size} bytes but ${limits.declaredSize} were declared`);
    }
    if (limits.declaredSha256 && sha256 !== limits.declaredSha256) {
      throw dataLoss(`sha256 mismatch: received ${sha256}, declared ${limits.declaredSha256}`);
    }
    return { path: file, sizeBytes: size, sha256 };
  } catch (err) {
    out.destroy();
    await fs.promises.rm(file, { force: true });
    throw err;
  }
}

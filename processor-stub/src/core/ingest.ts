import { createHash } from 'node:crypto';
import { once } from 'node:events';
import fs from 'node:fs';
import { dataLoss, resourceExhausted } from './errors';

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
  sha256: string;
}

/**
 * Writes chunks to `file` as they arrive (pulling, so the producer is held back while the
 * disk is slower), enforcing the size cap and the declared size and sha256. On any failure
 * the partial file is removed before the error propagates.
 */
export async function ingestToFile(
  chunks: AsyncIterable<Uint8Array>,
  file: string,
  limits: IngestLimits,
): Promise<IngestedFile> {
  const hash = createHash('sha256');
  const out = fs.createWriteStream(file, { flags: 'wx' });
  let size = 0;
  try {
    for await (const chunk of chunks) {
      size += chunk.length;
      if (size > limits.maxBytes) {
        throw resourceExhausted(`image exceeds the maximum size of ${limits.maxBytes} bytes`);
      }
      if (limits.declaredSize && size > limits.declaredSize) {
        throw dataLoss(`received more than the declared ${limits.declaredSize} bytes`);
      }
      hash.update(chunk);
      if (!out.write(chunk)) await once(out, 'drain');
    }
    out.end();
    await once(out, 'finish');
    const sha256 = hash.digest('hex');
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

import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import { ChunkPool } from './chunker';

/** An upload parked on local disk until its metadata has arrived. */
export interface Spool {
  path: string;
  sizeBytes: number;
  remove(): Promise<void>;
}

/**
 * Writes chunks to a fresh temporary file with backpressure; removes it on failure. Chunks cut
 * from `pool` are given back once written.
 */
export async function spoolFile(chunks: AsyncIterable<Buffer>, dir: string, pool?: ChunkPool): Promise<Spool> {
  const file = path.join(dir, `artorizer-spool-${randomUUID()}`);
  const out = fs.createWriteStream(file, { flags: 'wx', mode: 0o600 });
  const remove = () => fs.promises.rm(file, { force: true });
  let sizeBytes = 0;
  try {
    for await (const chunk of chunks) {
      sizeBytes += chunk.length;
      if (!out.write(chunk, () => pool?.give(chunk))) await once(out, 'drain');
    }
    out.end();
    await once(out, 'finish');
  } catch (err) {
    out.destroy();
    await remove();
    throw err;
  }
  return { path: file, sizeBytes, remove };
}

/**
 * A spooled file, read into chunk buffers from `pool`: the relay frames them in place and gives
 * them back once sent, where a read stream would allocate a fresh buffer per read and the framing
 * would copy it.
 */
export async function* spooledChunks(file: string, pool: ChunkPool): AsyncGenerator<Buffer> {
  const handle = await fs.promises.open(file, 'r');
  try {
    for (;;) {
      const chunk = pool.take();
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, null);
      if (bytesRead === 0) {
        pool.give(chunk);
        return;
      }
      yield chunk.subarray(0, bytesRead);
    }
  } finally {
    await handle.close();
  }
}

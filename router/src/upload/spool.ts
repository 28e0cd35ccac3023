import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';

/** An upload parked on local disk until its metadata has arrived. */
export interface Spool {
  path: string;
  sizeBytes: number;
  remove(): Promise<void>;
}

/** Writes chunks to a fresh temporary file with backpressure; removes it on failure. */
export async function spoolFile(chunks: AsyncIterable<Buffer>, dir: string): Promise<Spool> {
  const file = path.join(dir, `artorizer-spool-${randomUUID()}`);
  const out = fs.createWriteStream(file, { flags: 'wx', mode: 0o600 });
  const remove = () => fs.promises.rm(file, { force: true });
  let sizeBytes = 0;
  try {
    for await (const chunk of chunks) {
      sizeBytes += chunk.length;
      if (!out.write(chunk)) await once(out, 'drain');
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

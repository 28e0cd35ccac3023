/**
 * Integrity probe for the stream relay: uploads random "PNG" files of several sizes through a
 * stream router (curl, metadata first) and compares each file's sha256 with the copy the
 * processor stored (`<work dir>/…/original*`), while the job still exists.
 *   node_modules/.bin/tsx bench/relay-verify.ts [UPLOAD_CHUNK_SIZE ...]
 */
import { createHash, randomFillSync } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { curlUpload } from './lib/client';
import { Service, startProcessor, startRouter } from './lib/stack';

const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function sha(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

function find(dir: string, jobId: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (p.includes(jobId)) out.push(p);
    }
  };
  walk(dir);
  return out;
}

async function main(): Promise<void> {
  const chunkSizes = process.argv.slice(2).length ? process.argv.slice(2) : ['65536', '262144', '262140', '1048572', '1000'];
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'relay-verify-'));
  const services: Service[] = [];
  let failures = 0;
  try {
    const work = path.join(tmp, 'work');
    // one job at a time and slow processing are not needed: jobs fail fast (not decodable)
    const proc = await startProcessor({ WORK_DIR: work, MAX_IMAGE_SIZE: String(256 * 1024 * 1024), SHUTDOWN_GRACE_MS: '0', PROCESSOR_CONCURRENCY: '1' });
    services.push(proc.service);
    for (const chunk of chunkSizes) {
      const { service, port } = await startRouter(`stream-${chunk}`, {
        TRANSFER_MODE: 'stream',
        UPLOAD_CHUNK_SIZE: chunk,
        PROCESSOR_ADDR: `127.0.0.1:${proc.grpcPort}`,
        PROCESSOR_HTTP_URL: `http://127.0.0.1:${proc.httpPort}`,
        MAX_FILE_SIZE: String(256 * 1024 * 1024),
      });
      services.push(service);
      for (const bytes of [20, 1000, 65535, 65536, 262143, 262144, 262145, 1048576 + 7, 10 * 1048576 + 3, 50 * 1048576 + 11]) {
        const file = path.join(tmp, `f-${bytes}.png`);
        const data = randomFillSync(Buffer.allocUnsafe(bytes));
        PNG.copy(data);
        fs.writeFileSync(file, data);
        const res = await curlUpload(`http://127.0.0.1:${port}/protect`, 'image', file);
        if (res.status !== 202) {
          console.log(`chunk ${chunk} size ${bytes}: HTTP ${res.status} ${res.body}`);
          failures++;
          continue;
        }
        const jobId = (JSON.parse(res.body) as { job_id: string }).job_id;
        const stored = find(work, jobId).filter((p) => /original|incoming/.test(p));
        const ok = stored.length > 0 && stored.every((p) => sha(p) === sha(file));
        if (!ok) failures++;
        console.log(`chunk ${chunk} size ${bytes}: ${ok ? 'ok' : 'MISMATCH'} (${stored.map((p) => path.relative(work, p)).join(', ') || 'no stored file found'})`);
      }
    }
  } finally {
    await Promise.all(services.map((s) => s.stop()));
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  process.exitCode = failures ? 1 : 0;
}

void main();

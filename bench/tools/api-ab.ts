/**
 * A/B probe for the API routes: the max rate of `POST /protect {upload_id}` (queued,
 * DISPATCHER=off), of `GET /jobs/:id`, and of a 100 KiB multipart `POST /protect` relayed by a
 * stream-mode router to the processor, on routers run from two checkouts side by side (e.g.
 * the code before a change and the working tree), as section 4 of the report measures them:
 *
 *   node_modules/.bin/tsx bench/tools/api-ab.ts --before /tmp/before [--runs 5] [--seconds 10]
 *
 * One store, one processor (this checkout's) and Redis are shared; each router gets a
 * REDIS_PREFIX of its own with the upload grants its submits consume. Order rotates per round
 * (balanced Latin square rows) after one warm-up per contender; prints each run and the
 * medians, with the after ÷ before ratios paired by round.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { cleanRedis, grantSequence, json, multipartBody } from '../lib/api';
import { writeTestFile } from '../lib/files';
import { LoadGenerator } from '../lib/load-client';
import { LoadRequest } from '../lib/load-types';
import { CLIENT_FIELDS } from '../lib/serialization';
import { Service, startProcessor, startRouter, startStore } from '../lib/stack';
import { median, roundOrder } from '../lib/stats';
import { BUCKET, storeEnv } from '../lib/transfer-stack';

const { values } = parseArgs({
  options: {
    before: { type: 'string' },
    runs: { type: 'string', default: '5' },
    seconds: { type: 'string', default: '10' },
    connections: { type: 'string', default: '64' },
    'redis-url': { type: 'string', default: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' },
  },
});
if (!values.before) throw new Error('--before <checkout> is required');
const runs = Number(values.runs);
const seconds = Number(values.seconds);
const connections = Number(values.connections);
const redisUrl = values['redis-url']!;
const GRANT_PREFIX = 'a11d0000';

interface Contender {
  label: string;
  router: Service;
  prefix: string;
  submit: LoadRequest;
  status: LoadRequest;
  stream: LoadRequest;
}

async function expectOk(res: Response, what: string): Promise<string> {
  const text = await res.text();
  if (!res.ok) throw new Error(`${what}: ${res.status} ${text}`);
  return text;
}

async function main(): Promise<void> {
  const services: Service[] = [];
  const tempDir = fs.mkdtempSync(path.join(os.tmpdir(), 'api-ab-'));
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 2 });
  const generator = new LoadGenerator();
  const prefixes: string[] = [];
  try {
    const store = await startStore({ directory: path.join(tempDir, 's3'), bucket: BUCKET, bind: '127.0.0.1' });
    services.push(store.service);
    const s3 = storeEnv(`http://127.0.0.1:${store.port}`);
    const processor = await startProcessor({ WORK_DIR: path.join(tempDir, 'processor'), MAX_QUEUED_JOBS: '1000000', SHUTDOWN_GRACE_MS: '0', ...s3 });
    services.push(processor.service);
    const image = writeTestFile(tempDir, 0.09765625);
    const grants = (runs + 1) * seconds * 10_000;
    const contenders: Contender[] = [];
    for (const [label, root] of [
      ['before', values.before!],
      ['after', undefined],
    ] as const) {
      const prefix = `api-ab-${process.pid}-${label}`;
      prefixes.push(prefix);
      const env = { ...s3, PROCESSOR_ADDR: `127.0.0.1:${processor.grpcPort}`, REDIS_URL: redisUrl, REDIS_PREFIX: prefix, TRANSFER_MODE: 'direct', DISPATCHER: 'off', SHUTDOWN_GRACE_MS: '1000' };
      const host = root ? { name: root, wrap: ['env', '-C', root] } : undefined;
      const { service, port } = await startRouter(`api-${label}`, env, host);
      services.push(service);
      const streaming = await startRouter(`api-${label}-stream`, { PROCESSOR_ADDR: env.PROCESSOR_ADDR, TRANSFER_MODE: 'stream', SHUTDOWN_GRACE_MS: '1000' }, host);
      services.push(streaming.service);
      const multipart = multipartBody(image);
      const base = `http://127.0.0.1:${port}`;
      const size = fs.statSync(image).size;
      const grant = JSON.parse(
        await expectOk(await fetch(`${base}/uploads`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ content_type: 'image/png', size }) }), 'POST /uploads'),
      ) as { upload_id: string; url: string; headers: Record<string, string> };
      await expectOk(await fetch(grant.url, { method: 'PUT', headers: grant.headers, body: fs.readFileSync(image) }), 'PUT to the store');
      const body: Record<string, unknown> = { ...CLIENT_FIELDS, upload_id: grant.upload_id };
      delete body.idempotency_key;
      const first = JSON.parse(await expectOk(await fetch(`${base}/protect`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }), 'POST /protect')) as {
        job_id: string;
      };
      await grantSequence(redis, prefix, GRANT_PREFIX, grants, '');
      contenders.push({
        label,
        router: service,
        prefix,
        submit: { url: `${base}/protect`, method: 'POST', headers: { 'content-type': 'application/json' }, bodyBase64: json(body), idSequence: { placeholder: grant.upload_id, prefix: GRANT_PREFIX } },
        status: { url: `${base}/jobs/${first.job_id}`, method: 'GET', headers: {} },
        stream: { url: `http://127.0.0.1:${streaming.port}/protect`, method: 'POST', headers: { 'content-type': multipart.contentType }, bodyBase64: multipart.body.toString('base64') },
      });
    }
    const cells = contenders.flatMap((c) => (['submit', 'status', 'stream'] as const).map((route) => ({ c, route })));
    const rates = new Map<string, number[]>();
    for (let round = 0; round <= runs; round++) {
      for (const { c, route } of roundOrder(cells, round)) {
        const result = await generator.run({ kind: 'max', request: c[route], connections, durationSec: round === 0 ? 2 : seconds }, () => undefined);
        if (result.non2xx > 0 || result.errors > 0) throw new Error(`${c.label} ${route}: non-2xx ${result.non2xx}, errors ${result.errors}`);
        console.log(`${round === 0 ? 'warm-up' : `round ${round}`} ${c.label} ${route}: ${result.rate.toFixed(0)} req/s`);
        if (round > 0) rates.set(`${c.label} ${route}`, [...(rates.get(`${c.label} ${route}`) ?? []), result.rate]);
      }
    }
    for (const route of ['submit', 'status', 'stream']) {
      const before = rates.get(`before ${route}`)!;
      const after = rates.get(`after ${route}`)!;
      const paired = after.map((a, i) => a / before[i]);
      console.log(
        `${route}: before ${median(before).toFixed(0)} (${Math.min(...before).toFixed(0)}–${Math.max(...before).toFixed(0)}) req/s, after ${median(after).toFixed(0)} (${Math.min(...after).toFixed(0)}–${Math.max(...after).toFixed(0)}) req/s; after ÷ before paired by round: median ${median(paired).toFixed(2)}× (${Math.min(...paired).toFixed(2)}–${Math.max(...paired).toFixed(2)})`,
      );
    }
  } finally {
    await generator.close();
    for (const s of services.reverse()) await s.stop();
    redis.disconnect();
    await cleanRedis(redisUrl, prefixes);
    fs.rmSync(tempDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});

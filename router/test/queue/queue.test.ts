import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { HttpFixture, makePng, startHttpFixture } from '@artorizer/testkit';
import { LocalProcessor, LocalRouter, form, jobCount, startLocalProcessor, startLocalRouter, waitForEvent, waitForJob } from '../harness';
import { recordsPrefix } from '../../src/queue/keys';
import { RedisTestTarget, describeEachRedisTarget, startPrivateRedis, uniquePrefix } from './redis';
import { startEmbedded } from '../storage/stores';
import { freePort } from '../ports';

/* Queued submission on BullMQ and Redis, with real processors, routers and Redis. */
const meta = { artist_name: 'Jane Doe', artwork_title: 'Queued' };
let fixture: HttpFixture;
let png: Buffer;

async function submitUrl(router: LocalRouter, extra: Record<string, unknown> = {}, path = 'art.png'): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${router.url}/protect`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ ...meta, image_url: fixture.url(path), ...extra }),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

async function status(router: LocalRouter, id: string): Promise<Record<string, unknown>> {
  return (await (await fetch(`${router.url}/jobs/${id}`)).json()) as Record<string, unknown>;
}

/** POST /uploads for `declaredSize` bytes of PNG, then the PUT of `body` to the grant; the upload id. */
async function directUpload(router: LocalRouter, body: Buffer, declaredSize: number): Promise<string> {
  const res = await fetch(`${router.url}/uploads`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ content_type: 'image/png', size: declaredSize }) });
  expect(res.status).toBe(201);
  const grant = (await res.json()) as { upload_id: string; url: string };
  await fetch(grant.url, { method: 'PUT', headers: { 'Content-Type': 'image/png' }, body });
  return grant.upload_id;
}

function routerEnv(target: RedisTestTarget, prefix: string, processorAddr: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    ...target.env(),
    REDIS_PREFIX: prefix,
    PROCESSOR_ADDR: processorAddr,
    IMAGE_URL_ALLOWLIST: '127.0.0.1/32',
    HEALTH_CHECK_INTERVAL_MS: '100',
    DISPATCH_BACKOFF_MS: '50',
    ...extra,
  };
}

const REPO_ROOT = path.resolve(__dirname, '../../..');

describeEachRedisTarget('queued submission (BullMQ on Redis)', (target) => {
  const prefixes: string[] = [];
  const prefix = (name: string) => {
    const p = uniquePrefix(name);
    prefixes.push(p);
    return p;
  };

  beforeAll(async () => {
    png = await makePng(96, 64, 3);
    fixture = await startHttpFixture({ 'art.png': png });
  });

  afterAll(async () => {
    await fixture.close();
    for (const p of prefixes) await target.dropPrefix(p);
  });

  it('answers 202 queued at once while the processor is down; every job completes exactly once when it comes up', async () => {
    const port = await freePort();
    const address = `127.0.0.1:${port}`;
    const router = await startLocalRouter(routerEnv(target, prefix('down'), address));
    let processor: LocalProcessor | undefined;
    try {
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) {
        const res = await submitUrl(router);
        expect(res).toEqual({ status: 202, json: { job_id: expect.any(String), status: 'queued' } });
        ids.push(res.json.job_id as string);
      }
      expect(await status(router, ids[0])).toMatchObject({ status: 'queued' });

      const stream = await fetch(`${router.url}/protect`, { method: 'POST', body: form(meta, png) });
      expect(stream.status).toBe(503);
      expect(stream.headers.get('retry-after')).toBeTruthy();

      processor = await startLocalProcessor({ GRPC_PORT: String(port) });
      for (const id of ids) expect(await waitForJob(router.url, id)).toMatchObject({ status: 'completed' });
      expect(jobCount(processor)).toBe(5);

      const result = (await (await fetch(`${router.url}/jobs/${ids[0]}/result`)).json()) as { job_id: string; download_urls: Record<string, string> };
      expect(result.job_id).toBe(ids[0]);
      const original = await fetch(`${router.url}${result.download_urls.original}`);
      expect(Buffer.from(await original.arrayBuffer()).equals(png)).toBe(true);
    } finally {
      await router.stop(100);
      await processor?.stop(100);
    }
  });

  it('in auto mode stores and queues a multipart upload while no processor serves, and streams it once one does', async () => {
    const store = await startEmbedded('artorizer-auto-outage');
    const port = await freePort();
    const address = `127.0.0.1:${port}`;
    const router = await startLocalRouter(routerEnv(target, prefix('auto'), address, store.env));
    let processor: LocalProcessor | undefined;
    try {
      const queued = await fetch(`${router.url}/protect`, { method: 'POST', body: form(meta, png) });
      expect(queued.status).toBe(202);
      const id = ((await queued.json()) as { job_id: string }).job_id;
      expect(await store.keys('uploads/')).toHaveLength(1);
      expect(await status(router, id)).toMatchObject({ status: 'queued' });

      processor = await startLocalProcessor({ GRPC_PORT: String(port), ...store.env });
      expect(await waitForJob(router.url, id)).toMatchObject({ status: 'completed' });
      // the breaker has closed (the job was dispatched): the next upload goes to the processor, nothing more is stored
      const streamed = await fetch(`${router.url}/protect`, { method: 'POST', body: form(meta, png) });
      expect(streamed.status).toBe(202);
      const metrics = await (await fetch(`${router.url}/metrics`)).text();
      expect(metrics).toMatch(/router_bytes_relayed_total\{mode="stream"\} [1-9]/);
      expect(await store.keys('uploads/')).toHaveLength(1);
    } finally {
      await router.stop(100);
      await processor?.stop(100);
      await store.stop();
    }
  });

  it('lets any router instance answer for any job, and survives a router restart', async () => {
    const p = prefix('instances');
    const processorPort = await freePort();
    const address = `127.0.0.1:${processorPort}`;
    const first = await startLocalRouter(routerEnv(target, p, address));
    const ids = [(await submitUrl(first)).json.job_id as string, (await submitUrl(first)).json.job_id as string];
    await first.stop(100);

    // A second instance without a dispatcher, and a restarted first one that has one.
    const reader = await startLocalRouter(routerEnv(target, p, address, { DISPATCHER: 'off' }));
    const restarted = await startLocalRouter(routerEnv(target, p, address));
    const processor = await startLocalProcessor({ GRPC_PORT: String(processorPort) });
    try {
      for (const id of ids) {
        expect(await waitForJob(reader.url, id)).toMatchObject({ status: 'completed' });
        expect(await status(restarted, id)).toMatchObject({ status: 'completed', job_id: id });
        const result = await fetch(`${reader.url}/jobs/${id}/result`);
        expect(result.status).toBe(200);
      }
      expect(jobCount(processor)).toBe(2);
    } finally {
      await reader.stop(100);
      await restarted.stop(100);
      await processor.stop(100);
    }
  });

  it('serves higher-priority jobs first when the processor is saturated', async () => {
    const processor = await startLocalProcessor({ PROCESSOR_CONCURRENCY: '1' });
    const router = await startLocalRouter(routerEnv(target, prefix('priority'), processor.address, { PROCESSOR_MAX_INFLIGHT: '1' }));
    try {
      const stall = fixture.nextStall();
      const blocker = (await submitUrl(router, {}, 'stall')).json.job_id as string;
      await stall;
      const low1Res = await submitUrl(router, { priority: -5 });
      expect(low1Res.status).toBe(202);
      const low1 = low1Res.json.job_id as string;
      const low2 = (await submitUrl(router, { priority: 0 })).json.job_id as string;
      const high = (await submitUrl(router, { priority: 50 })).json.job_id as string;
      fixture.stalled.shift()!.writeHead(200, { 'Content-Length': png.length }).end(png);
      for (const id of [blocker, low1, low2, high]) await waitForJob(router.url, id);

      const records = target.connect();
      const order = await Promise.all(
        [high, low2, low1].map(async (id) => {
          const record = JSON.parse((await records.get(`${recordsPrefix(prefixes[prefixes.length - 1])}job:${id}`))!) as { processorJobId: string };
          return processor.processor.jobs.get(record.processorJobId).createdAt.getTime();
        }),
      );
      records.disconnect();
      expect([...order].sort((a, b) => a - b)).toEqual(order);
    } finally {
      await router.stop(100);
      await processor.stop(100);
    }
  });

  it('puts a job the processor refuses for good in the dead letter, visible in GET /jobs/:id', async () => {
    // The router hands over bucket/key references; this processor has no store, so it
    // answers FAILED_PRECONDITION, a permanent error: no retry.
    const store = await startEmbedded('artorizer-dead');
    const processor = await startLocalProcessor();
    const router = await startLocalRouter({ ...store.env, ...routerEnv(target, prefix('dead'), processor.address), S3_REFERENCE: 'key', TRANSFER_MODE: 's3' });
    try {
      const res = await fetch(`${router.url}/protect`, { method: 'POST', body: form(meta, png) });
      expect(res.status).toBe(202);
      const id = ((await res.json()) as { job_id: string }).job_id;
      const end = await waitForJob(router.url, id);
      expect(end).toMatchObject({ status: 'failed', dead_letter: true, last_error: expect.stringMatching(/FAILED_PRECONDITION.*object store/), attempts: 1 });
      expect(await status(router, id)).toMatchObject({ status: 'failed', dead_letter: true });
    } finally {
      await router.stop(100);
      await processor.stop(100);
      await store.stop();
    }
  });

  it('queues direct uploads at once and lets the dispatcher check them: good ones complete, bad ones fail with the reason and are deleted; ids of no upload get 400', async () => {
    const store = await startEmbedded('artorizer-direct-queued');
    const processor = await startLocalProcessor(store.env);
    const router = await startLocalRouter({ ...store.env, ...routerEnv(target, prefix('direct'), processor.address), TRANSFER_MODE: 'direct', MAX_FILE_SIZE: String(64 * 1024) });
    // s3rver does not enforce the signed length, so an oversized object can be put here.
    const upload = (body: Buffer) => directUpload(router, body, Math.min(body.length, 64 * 1024));
    const submit = async (uploadId: string) => {
      const res = await fetch(`${router.url}/protect`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ ...meta, upload_id: uploadId }) });
      expect(res.status).toBe(202);
      const body = (await res.json()) as { job_id: string; status: string };
      expect(body.status).toBe('queued');
      return body.job_id;
    };
    try {
      const good = await upload(png);
      const notImage = await upload(Buffer.from('this is not an image'));
      const tooLarge = await upload(Buffer.concat([png, Buffer.alloc(64 * 1024)]));
      // granted by POST /uploads, never PUT: known to the router, absent from the store
      const neverPut = (
        (await (await fetch(`${router.url}/uploads`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ content_type: 'image/png', size: 100 }) })).json()) as {
          upload_id: string;
        }
      ).upload_id;
      const [goodJob, notImageJob, tooLargeJob, missingJob] = await Promise.all([submit(good), submit(notImage), submit(tooLarge), submit(neverPut)]);
      // an id no upload was created with is refused at once, not queued
      const unknown = await fetch(`${router.url}/protect`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ ...meta, upload_id: '00000000-0000-4000-8000-000000000000' }),
      });
      expect({ status: unknown.status, body: await unknown.json() }).toEqual({ status: 400, body: expect.objectContaining({ field: 'upload_id' }) });

      expect(await waitForJob(router.url, goodJob)).toMatchObject({ status: 'completed' });
      expect(await waitForJob(router.url, notImageJob)).toMatchObject({ status: 'failed', error: { reason: 'invalid_image', message: expect.stringMatching(/not a supported image/) } });
      expect(await waitForJob(router.url, tooLargeJob)).toMatchObject({ status: 'failed', error: { reason: 'too_large' } });
      const missing = await waitForJob(router.url, missingJob);
      expect(missing).toMatchObject({ status: 'failed', attempts: 1, error: { reason: 'fetch_failed', message: expect.stringMatching(/not found/) } });
      expect(missing).not.toHaveProperty('dead_letter');
      expect(await store.keys(`uploads/${notImage}`)).toEqual([]);
      expect(await store.keys(`uploads/${tooLarge}`)).toEqual([]);
      expect(jobCount(processor)).toBe(1);
    } finally {
      await router.stop(100);
      await processor.stop(100);
      await store.stop();
    }
  });

  it('never hands a direct upload on unchecked: a dispatcher without a store dead-letters it with the reason', async () => {
    const store = await startEmbedded('artorizer-direct-nostore');
    const processor = await startLocalProcessor(store.env);
    const p = prefix('nostore');
    // attempts are set where the job is enqueued
    const edge = await startLocalRouter({ ...store.env, ...routerEnv(target, p, processor.address, { DISPATCHER: 'off', DISPATCH_ATTEMPTS: '2' }), TRANSFER_MODE: 'direct' });
    const storeless = await startLocalRouter(routerEnv(target, p, processor.address));
    try {
      const uploadId = await directUpload(edge, png, png.length);
      const res = await fetch(`${edge.url}/protect`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ ...meta, upload_id: uploadId }) });
      expect(res.status).toBe(202);
      const id = ((await res.json()) as { job_id: string }).job_id;
      expect(await waitForJob(edge.url, id)).toMatchObject({ status: 'failed', dead_letter: true, attempts: 2, last_error: expect.stringMatching(/no object store/) });
      expect(jobCount(processor)).toBe(0);
    } finally {
      await storeless.stop(100);
      await edge.stop(100);
      await processor.stop(100);
      await store.stop();
    }
  });

  it('retries a job whose processor dies mid-job, on the processor that comes back', async () => {
    const port = await freePort();
    let processor = await startLocalProcessor({ GRPC_PORT: String(port) });
    const router = await startLocalRouter(routerEnv(target, prefix('killed'), processor.address));
    try {
      const stall = fixture.nextStall();
      const id = (await submitUrl(router, {}, 'stall')).json.job_id as string;
      await stall;
      await processor.stop(0);
      fixture.stalled.shift()!.destroy();

      processor = await startLocalProcessor({ GRPC_PORT: String(port) });
      // The restarted processor lost the job; the dispatcher resubmits it there.
      const stallAgain = fixture.nextStall();
      await stallAgain;
      fixture.stalled.shift()!.writeHead(200, { 'Content-Length': png.length }).end(png);
      expect(await waitForJob(router.url, id)).toMatchObject({ status: 'completed' });
      expect(((await status(router, id)).attempts as number) >= 2).toBe(true);
    } finally {
      await router.stop(100);
      await processor.stop(100);
    }
  });

  it('gives a repeated idempotency key the job it already queued: the processor runs it once', async () => {
    const processor = await startLocalProcessor();
    const p = prefix('idempotent');
    const router = await startLocalRouter(routerEnv(target, p, processor.address));
    const other = await startLocalRouter(routerEnv(target, p, processor.address, { DISPATCHER: 'off' }));
    try {
      const first = await submitUrl(router, { idempotency_key: 'retry-1' });
      expect(first).toEqual({ status: 202, json: { job_id: expect.any(String), status: 'queued' } });
      const id = first.json.job_id as string;
      // A retry, on another instance, and three at once with a second key.
      expect((await submitUrl(other, { idempotency_key: 'retry-1' })).json.job_id).toBe(id);
      const together = await Promise.all([router, other, router].map((r) => submitUrl(r, { idempotency_key: 'together-1' })));
      expect(new Set(together.map((t) => t.status))).toEqual(new Set([202]));
      const togetherId = together[0].json.job_id as string;
      expect(together.map((t) => t.json.job_id)).toEqual([togetherId, togetherId, togetherId]);
      expect(togetherId).not.toBe(id);

      expect(await waitForJob(router.url, id)).toMatchObject({ status: 'completed' });
      expect(await waitForJob(router.url, togetherId)).toMatchObject({ status: 'completed' });
      // After the end, the key still names the same job, now with its final status.
      expect((await submitUrl(other, { idempotency_key: 'retry-1' })).json).toEqual({ job_id: id, status: 'completed' });
      expect(jobCount(processor)).toBe(2);
      const queued = await target.keys(`${recordsPrefix(p)}job:*`);
      expect(queued.sort()).toEqual([`${recordsPrefix(p)}job:${id}`, `${recordsPrefix(p)}job:${togetherId}`].sort());
    } finally {
      await other.stop(100);
      await router.stop(100);
      await processor.stop(100);
    }
  });

  it('writes the job a claimed idempotency key names when the claiming submit never wrote it', async () => {
    const processor = await startLocalProcessor();
    const p = prefix('claimed');
    const router = await startLocalRouter(routerEnv(target, p, processor.address));
    const records = target.connect();
    try {
      // What a router that died between the claim and the write leaves behind.
      const orphanId = '0b7f6a2e-8f55-4d33-9a61-2b9d5d7e1c10';
      await records.set(`${recordsPrefix(p)}idempotency:lost-1`, orphanId, 'EX', 60);
      const res = await submitUrl(router, { idempotency_key: 'lost-1' });
      expect(res).toEqual({ status: 202, json: { job_id: orphanId, status: 'queued' } });
      expect(await waitForJob(router.url, orphanId)).toMatchObject({ status: 'completed' });
      expect(jobCount(processor)).toBe(1);
    } finally {
      records.disconnect();
      await router.stop(100);
      await processor.stop(100);
    }
  });

  it('deletes the object a repeated s3-mode upload stored, since the earlier job has its own', async () => {
    const store = await startEmbedded('artorizer-idempotent-s3');
    const processor = await startLocalProcessor(store.env);
    const router = await startLocalRouter({ ...store.env, ...routerEnv(target, prefix('idempotent-s3'), processor.address), TRANSFER_MODE: 's3' });
    try {
      const submit = async () => {
        const res = await fetch(`${router.url}/protect`, { method: 'POST', body: form({ ...meta, idempotency_key: 'upload-1' }, png) });
        expect(res.status).toBe(202);
        return ((await res.json()) as { job_id: string }).job_id;
      };
      const id = await submit();
      const stored = await store.keys('uploads/');
      expect(stored).toHaveLength(1);
      expect(await submit()).toBe(id);
      expect(await store.keys('uploads/')).toEqual(stored);
      expect(await waitForJob(router.url, id)).toMatchObject({ status: 'completed' });
      expect(jobCount(processor)).toBe(1);
    } finally {
      await router.stop(100);
      await processor.stop(100);
      await store.stop();
    }
  });

  it('takes up a job whose dispatcher died mid-job (stalled-job recovery): it completes, run once', async () => {
    const processor = await startLocalProcessor();
    const p = prefix('stalled');
    const edge = await startLocalRouter(routerEnv(target, p, processor.address, { DISPATCHER: 'off' }));
    // `make dispatcher` as a process of its own, so that it can die as a process dies.
    const doomed = spawn(path.join(REPO_ROOT, 'node_modules/.bin/tsx'), ['router/src/dispatcher-main.ts'], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...routerEnv(target, p, processor.address, { DISPATCH_LOCK_MS: '1000' }), LOG_LEVEL: 'warn' },
      stdio: 'ignore',
      detached: true,
    });
    const exited = new Promise((resolve) => doomed.once('exit', resolve));
    let survivor: LocalRouter | undefined;
    try {
      const stall = fixture.nextStall();
      const id = (await submitUrl(edge, {}, 'stall')).json.job_id as string;
      await stall;
      expect(await waitForEvent(edge.url, id, (_event, s) => s.status === 'processing')).toMatchObject({ status: 'processing' });
      process.kill(-doomed.pid!, 'SIGKILL');
      await exited;

      // Nobody follows the job now; a dispatcher that starts later finds it stalled and takes it up.
      survivor = await startLocalRouter(routerEnv(target, p, processor.address, { DISPATCH_LOCK_MS: '1000' }));
      fixture.stalled.shift()!.writeHead(200, { 'Content-Length': png.length }).end(png);
      expect(await waitForJob(edge.url, id)).toMatchObject({ status: 'completed' });
      expect(jobCount(processor)).toBe(1);
    } finally {
      if (doomed.exitCode === null && doomed.signalCode === null) process.kill(-doomed.pid!, 'SIGKILL');
      await survivor?.stop(100);
      await edge.stop(100);
      await processor.stop(100);
    }
  });

  // one server's own durability, registered for that target only; a cluster's (a replica taking over) is failover.test.ts's
  const onOneServer = (name: string, fn: () => Promise<void>) => target.kind === 'server' && it(name, fn);
  onOneServer('completes every job accepted before and after Redis crashes (append-only file on), each once', async () => {
    const aofDir = fs.mkdtempSync(path.join(os.tmpdir(), 'artorizer-redis-aof-'));
    const redisPort = await freePort();
    let redis = await startPrivateRedis({ port: redisPort, aofDir });
    const processorPort = await freePort();
    const router = await startLocalRouter(routerEnv(target, 'crash', `127.0.0.1:${processorPort}`, { REDIS_URL: redis.url }));
    let processor: LocalProcessor | undefined;
    const submit = async () => {
      const res = await submitUrl(router);
      expect(res.status).toBe(202);
      return res.json.job_id as string;
    };
    try {
      // The processor is down: every job waits in the queue while Redis dies.
      const before = [await submit(), await submit(), await submit()];
      await redis.kill();
      redis = await startPrivateRedis({ port: redisPort, aofDir });
      const after = [await submit(), await submit()];

      processor = await startLocalProcessor({ GRPC_PORT: String(processorPort) });
      for (const id of [...before, ...after]) expect(await waitForJob(router.url, id)).toMatchObject({ status: 'completed' });
      expect(jobCount(processor)).toBe(5);
    } finally {
      await router.stop(100);
      await processor?.stop(100);
      await redis.stop();
      fs.rmSync(aofDir, { recursive: true, force: true });
    }
  });

  it('cancels a queued job', async () => {
    const port = await freePort();
    const router = await startLocalRouter(routerEnv(target, prefix('cancel'), `127.0.0.1:${port}`));
    try {
      const id = (await submitUrl(router)).json.job_id as string;
      const cancel = await fetch(`${router.url}/jobs/${id}`, { method: 'DELETE' });
      expect(await cancel.json()).toMatchObject({ status: 'cancelled' });
      expect((await fetch(`${router.url}/jobs/${id}`, { method: 'DELETE' })).status).toBe(409);
    } finally {
      await router.stop(100);
    }
  });

  it('brings 1,000 queued submits to a terminal state', async () => {
    const processor = await startLocalProcessor({ PROCESSOR_CONCURRENCY: '4' });
    // a thousand submits and event streams from one address at once: far above the default limits
    const router = await startLocalRouter(
      routerEnv(target, prefix('thousand'), processor.address, { PROCESSOR_MAX_INFLIGHT: '16', RATE_LIMIT_SUBMITS_PER_MINUTE: '0', MAX_EVENT_STREAMS_PER_KEY: '2000' }),
    );
    try {
      const ids: string[] = [];
      for (let batch = 0; batch < 10; batch++) {
        const answers = await Promise.all(Array.from({ length: 100 }, () => submitUrl(router, { include_protection: false, processors: 'metadata' })));
        for (const a of answers) {
          expect(a.status).toBe(202);
          ids.push(a.json.job_id as string);
        }
      }
      const ends = await Promise.all(ids.map((id) => waitForJob(router.url, id)));
      expect(ends.filter((e) => e.status === 'completed')).toHaveLength(1000);
      expect(jobCount(processor)).toBe(1000);
    } finally {
      await router.stop(100);
      await processor.stop(100);
    }
  }, 120_000);
});

import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import * as tus from 'tus-js-client';
import { HttpFixture, makePng, startHttpFixture } from '@artorizer/testkit';
import { sha256Hex } from '../../src/security/api-keys';
import { LocalProcessor, LocalRouter, form, startLocalProcessor, startLocalRouter, waitForJob } from '../harness';
import { REDIS_URL, describeWithRedis, dropPrefix, uniquePrefix } from '../queue/redis';
import { TestStore, startEmbedded } from '../storage/stores';
import { within } from '../wire';

/** Every route of one job, as [method, path after /jobs/:id]. */
const JOB_ROUTES = [
  ['GET', ''],
  ['GET', '/result'],
  ['GET', '/download/original'],
  ['GET', '/events'],
  ['DELETE', ''],
] as const;

const ALICE = 'art_alice-secret-for-tests';
const BOB = 'art_bob-secret-for-tests';
const meta = { artist_name: 'Jane', artwork_title: 'Keyed' };
const bearer = (secret: string) => ({ Authorization: `Bearer ${secret}` });

describeWithRedis('API keys and ownership', () => {
  let dir: string;
  let keysFile: string;
  let store: TestStore;
  let processor: LocalProcessor;
  let direct: LocalRouter;
  let queued: LocalRouter;
  let png: Buffer;
  let fixture: HttpFixture;
  const prefix = uniquePrefix('keys');

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'artorizer-keys-'));
    keysFile = path.join(dir, 'api-keys');
    fs.writeFileSync(keysFile, `# tenants\nalice:${sha256Hex(ALICE)}:max_priority=10\n\nbob:${sha256Hex(BOB)}\n`);
    png = await makePng(200, 150, 3);
    fixture = await startHttpFixture({ 'art.png': png });
    store = await startEmbedded();
    processor = await startLocalProcessor(store.env);
    const env = { ...store.env, PROCESSOR_ADDR: processor.address, API_KEYS_FILE: keysFile, IMAGE_URL_ALLOWLIST: '127.0.0.1' };
    direct = await startLocalRouter({ ...env, TRANSFER_MODE: 'auto' });
    queued = await startLocalRouter({ ...env, TRANSFER_MODE: 'auto', REDIS_URL, REDIS_PREFIX: prefix });
  });

  afterAll(async () => {
    await Promise.all([direct.stop(100), queued.stop(100)]);
    await processor.stop(0);
    await store.stop();
    await fixture.close();
    await dropPrefix(prefix);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const routers = [
    ['without a queue', () => direct],
    ['queued', () => queued],
  ] as const;

  it.each(routers)('answers 401 with a JSON error without a valid key, on every route but /health* (%s)', async (_name, router) => {
    const url = router().url;
    const routes: [string, string][] = [
      ['POST', '/protect'],
      ['POST', '/uploads'],
      ['GET', '/jobs/x'],
      ['GET', '/jobs/x/result'],
      ['GET', '/jobs/x/download/original'],
      ['GET', '/jobs/x/events'],
      ['DELETE', '/jobs/x'],
      ['GET', '/metrics'],
    ];
    for (const [method, route] of routes) {
      const attempts: Record<string, string>[] = [{}, bearer('art_wrong'), { 'X-API-Key': 'art_wrong' }, { Authorization: `Basic ${Buffer.from(`a:${ALICE}`).toString('base64')}` }];
      for (const headers of attempts) {
        const res = await fetch(`${url}${route}`, { method, headers });
        expect({ method, route, status: res.status, body: await res.json() }).toEqual({ method, route, status: 401, body: { error: expect.stringMatching(/API key/) } });
        expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
      }
    }
    for (const route of ['/health', '/health/live', '/health/ready']) expect((await fetch(`${url}${route}`)).status).toBe(200);
    // another scheme in Authorization (a proxy's Basic) does not hide a valid X-API-Key
    expect((await fetch(`${url}/jobs/x`, { headers: { Authorization: 'Basic eDp5', 'X-API-Key': ALICE } })).status).toBe(404);
    // with keys, /metrics is an operator's (METRICS_TOKEN or METRICS_PORT), not any tenant's
    expect((await fetch(`${url}/metrics`, { headers: bearer(ALICE) })).status).toBe(404);
  });

  it.each(routers)('gives another key a 404 on a job still running, and leaves it running (%s)', async (_name, router) => {
    const url = router().url;
    const stall = fixture.nextStall();
    const res = await fetch(`${url}/protect`, {
      method: 'POST',
      headers: { ...bearer(ALICE), 'Content-Type': 'application/json' },
      body: JSON.stringify({ ...meta, image_url: fixture.url('stall') }),
    });
    expect(res.status).toBe(202);
    const { job_id } = (await res.json()) as { job_id: string };
    await stall;
    try {
      for (const [method, route] of JOB_ROUTES) {
        const theirs = await fetch(`${url}/jobs/${job_id}${route}`, { method, headers: bearer(BOB) });
        expect({ route, method, status: theirs.status }).toEqual({ route, method, status: 404 });
        await theirs.body?.cancel();
      }
      expect(await (await fetch(`${url}/jobs/${job_id}/result`, { headers: bearer(ALICE) })).json()).toMatchObject({ status: expect.stringMatching(/queued|processing/) });
      expect(await (await fetch(`${url}/jobs/${job_id}`, { method: 'DELETE', headers: bearer(ALICE) })).json()).toMatchObject({ status: 'cancelled' });
    } finally {
      for (const stalled of fixture.stalled.splice(0)) stalled.destroy();
    }
  });

  it.each(routers)("gives another key's job a 404 exactly like an unknown id, on every job route (%s)", async (_name, router) => {
    const url = router().url;
    const res = await fetch(`${url}/protect`, { method: 'POST', headers: bearer(ALICE), body: form(meta, png) });
    expect(res.status).toBe(202);
    const { job_id } = (await res.json()) as { job_id: string };
    const asAlice = { headers: bearer(ALICE) };
    const done = await (async () => {
      const events = await fetch(`${url}/jobs/${job_id}/events`, asAlice);
      expect(events.status).toBe(200);
      await events.body?.cancel();
      return waitForJob(url, job_id, bearer(ALICE));
    })();
    expect(done).toMatchObject({ status: 'completed' });
    const unknown = '00000000-0000-4000-8000-000000000000';
    for (const [method, route] of JOB_ROUTES) {
      const theirs = await fetch(`${url}/jobs/${job_id}${route}`, { method, headers: { 'X-API-Key': BOB } });
      const none = await fetch(`${url}/jobs/${unknown}${route}`, { method, headers: { 'X-API-Key': BOB } });
      const body = (await theirs.json()) as { error: string };
      expect({ route, status: theirs.status }).toEqual({ route, status: 404 });
      expect(body.error.replace(job_id, 'ID')).toBe(((await none.json()) as { error: string }).error.replace(unknown, 'ID'));
      expect((await fetch(`${url}/jobs/${job_id}${route === '/events' ? '' : route}`, { method: method === 'DELETE' ? 'GET' : method, headers: bearer(ALICE) })).status).toBe(200);
    }
  });

  it.each(routers)('scopes idempotency keys per API key (%s)', async (name, router) => {
    const submit = async (secret: string) => {
      const res = await fetch(`${router().url}/protect`, {
        method: 'POST',
        headers: { ...bearer(secret), 'Content-Type': 'application/json' },
        body: JSON.stringify({ ...meta, image_url: fixture.url('art.png'), idempotency_key: `same-key-${name}` }),
      });
      return ((await res.json()) as { job_id: string }).job_id;
    };
    const a1 = await submit(ALICE);
    const a2 = await submit(ALICE);
    const b1 = await submit(BOB);
    expect(a2).toBe(a1);
    expect(b1).not.toBe(a1);
  });

  it.each(routers)("refuses another key's upload_id (%s)", async (_name, router) => {
    const url = router().url;
    const grant = (await (
      await fetch(`${url}/uploads`, { method: 'POST', headers: { ...bearer(ALICE), 'Content-Type': 'application/json' }, body: JSON.stringify({ content_type: 'image/png', size: png.length }) })
    ).json()) as { upload_id: string; url: string };
    await fetch(grant.url, { method: 'PUT', headers: { 'Content-Type': 'image/png' }, body: png });
    const submit = (secret: string) =>
      fetch(`${url}/protect`, { method: 'POST', headers: { ...bearer(secret), 'Content-Type': 'application/json' }, body: JSON.stringify({ ...meta, upload_id: grant.upload_id }) });
    const bob = await submit(BOB);
    expect({ status: bob.status, body: await bob.json() }).toEqual({ status: 400, body: { error: 'upload_id is not an id from POST /uploads or a tus upload (/files)', field: 'upload_id' } });
    const alice = await submit(ALICE);
    expect(alice.status).toBe(202);
    const { job_id } = (await alice.json()) as { job_id: string };
    expect((await fetch(`${url}/jobs/${job_id}`, { headers: bearer(BOB) })).status).toBe(404);
    expect((await fetch(`${url}/jobs/${job_id}`, { method: 'DELETE', headers: bearer(BOB) })).status).toBe(404);
    expect(await waitForJob(url, job_id, bearer(ALICE))).toMatchObject({ status: 'completed' });
  });

  it('serves the page, its assets and /info without a key; /info says a key is needed', async () => {
    for (const route of ['/', '/assets/app.js', '/assets/vendor/tus.min.js', '/info']) {
      expect({ route, status: (await fetch(`${queued.url}${route}`)).status }).toEqual({ route, status: 200 });
    }
    const info = (await (await fetch(`${queued.url}/info`)).json()) as { api_key_required: boolean; uploads: { resumable: string | null } };
    expect(info).toMatchObject({ api_key_required: true, uploads: { resumable: '/files' } });
    // a path under /assets/ that is not an asset is refused, never a way around the keys (sent
    // raw: fetch would normalise the dots away before sending)
    const raw = await new Promise<number>((resolve, reject) => {
      http
        .get({ host: '127.0.0.1', port: new URL(queued.url).port, path: '/assets/../jobs/x' }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        })
        .on('error', reject);
    });
    expect([401, 403, 404]).toContain(raw);
    expect((await fetch(`${queued.url}/assets/nothing-here.js`)).status).toBe(404);
  });

  it.each(routers)('gives a resumable (tus) upload to the key that created it: another key is told 404 at /files and 400 at /protect (%s)', async (_name, router) => {
    const url = router().url;
    const tusHeaders = (secret?: string) => ({ 'Tus-Resumable': '1.0.0', ...(secret ? bearer(secret) : {}) });
    expect((await fetch(`${url}/files`, { method: 'POST', headers: { ...tusHeaders(), 'Upload-Length': String(png.length) } })).status).toBe(401);
    const uploadUrl = await new Promise<string>((resolve, reject) => {
      const upload: tus.Upload = new tus.Upload(png, {
        endpoint: `${url}/files`,
        headers: bearer(ALICE),
        metadata: { filetype: 'image/png' },
        retryDelays: null,
        onSuccess: () => resolve(upload.url!),
        onError: reject,
      });
      upload.start();
    });
    const asBob = [
      await fetch(uploadUrl, { method: 'HEAD', headers: tusHeaders(BOB) }),
      await fetch(uploadUrl, { method: 'PATCH', headers: { ...tusHeaders(BOB), 'Upload-Offset': String(png.length), 'Content-Type': 'application/offset+octet-stream' }, body: Buffer.alloc(0) }),
      await fetch(uploadUrl, { method: 'DELETE', headers: tusHeaders(BOB) }),
    ];
    expect(asBob.map((r) => r.status)).toEqual([404, 404, 404]);
    const submit = (secret: string) =>
      fetch(`${url}/protect`, { method: 'POST', headers: { ...bearer(secret), 'Content-Type': 'application/json' }, body: JSON.stringify({ ...meta, upload_id: uploadUrl }) });
    expect((await submit(BOB)).status).toBe(400);
    const alice = await submit(ALICE);
    expect(alice.status).toBe(202);
    expect(await waitForJob(url, ((await alice.json()) as { job_id: string }).job_id, bearer(ALICE))).toMatchObject({ status: 'completed' });
  });

  it('counts tus creations in the per-minute submit limit', async () => {
    const limited = await startLocalRouter({ ...store.env, PROCESSOR_ADDR: processor.address, API_KEYS_FILE: keysFile, RATE_LIMIT_SUBMITS_PER_MINUTE: '2' });
    try {
      const create = () => fetch(`${limited.url}/files`, { method: 'POST', headers: { ...bearer(ALICE), 'Tus-Resumable': '1.0.0', 'Upload-Length': '100' } });
      const statuses = [(await create()).status, (await create()).status, (await create()).status];
      expect(statuses).toEqual([201, 201, 429]);
    } finally {
      await limited.stop(100);
    }
  });

  it('lets a key ask for a priority above the default only when the keys file allows it', async () => {
    const ask = (secret: string, priority: number) => fetch(`${queued.url}/protect`, { method: 'POST', headers: bearer(secret), body: form({ ...meta, priority: String(priority) }, png) });
    const bob = await ask(BOB, 5);
    expect({ status: bob.status, body: await bob.json() }).toEqual({ status: 403, body: { error: expect.stringMatching(/priority 5 is above/), field: 'priority' } });
    expect((await ask(ALICE, 10)).status).toBe(202);
    expect((await ask(ALICE, 11)).status).toBe(403);
  });

  it('re-reads the keys file when it changes', async () => {
    const carol = 'art_carol-secret-for-tests';
    const tryCarol = async () => (await fetch(`${direct.url}/jobs/x`, { headers: bearer(carol) })).status;
    expect(await tryCarol()).toBe(401);
    fs.appendFileSync(keysFile, `carol:${sha256Hex(carol)}\n`);
    expect(await within(5000, async () => (await tryCarol()) === 404)).toBe(true);
  });
});

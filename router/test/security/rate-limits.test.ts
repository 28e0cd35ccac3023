import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { HttpFixture, makePng, startHttpFixture } from '@artorizer/testkit';
import { sha256Hex } from '../../src/security/api-keys';
import { LocalProcessor, LocalRouter, startLocalProcessor, startLocalRouter } from '../harness';
import { REDIS_URL, describeWithRedis, dropPrefix, uniquePrefix } from '../queue/redis';
import { MiB, multipart, pngLike, sendPartOf } from '../wire';

const ALICE = 'art_alice-rate';
const BOB = 'art_bob-rate';
const bearer = (secret: string) => ({ Authorization: `Bearer ${secret}` });

describeWithRedis('rate limits and caps per API key', () => {
  let dir: string;
  let keysFile: string;
  let processor: LocalProcessor;
  let fixture: HttpFixture;
  const prefix = uniquePrefix('rate');
  const routers: LocalRouter[] = [];
  const start = async (env: Record<string, string>) => {
    const router = await startLocalRouter({ PROCESSOR_ADDR: processor.address, API_KEYS_FILE: keysFile, IMAGE_URL_ALLOWLIST: '127.0.0.1', ...env });
    routers.push(router);
    return router;
  };

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'artorizer-rate-'));
    keysFile = path.join(dir, 'api-keys');
    fs.writeFileSync(keysFile, `alice:${sha256Hex(ALICE)}\nbob:${sha256Hex(BOB)}\n`);
    processor = await startLocalProcessor();
    fixture = await startHttpFixture({ 'art.png': await makePng(96, 64, 2) });
  });

  afterAll(async () => {
    await Promise.all(routers.map((r) => r.stop(100)));
    await processor.stop(0);
    await fixture.close();
    await dropPrefix(prefix);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const submit = (router: LocalRouter, secret: string) =>
    fetch(`${router.url}/protect`, {
      method: 'POST',
      headers: { ...bearer(secret), 'Content-Type': 'application/json' },
      body: JSON.stringify({ artist_name: 'A', artwork_title: 'B', image_url: fixture.url('art.png') }),
    });

  it('answers a burst over the limit with 429, RateLimit-* and Retry-After, shared by every router on Redis, while another key is served', async () => {
    const env = { RATE_LIMIT_SUBMITS_PER_MINUTE: '5', REDIS_URL, REDIS_PREFIX: prefix };
    const one = await start(env);
    const two = await start(env);
    const answers = [];
    for (let i = 0; i < 8; i++) answers.push(await submit(i % 2 ? two : one, ALICE));
    expect(answers.map((r) => r.status)).toEqual([202, 202, 202, 202, 202, 429, 429, 429]);
    const refused = answers[5];
    expect(refused.headers.get('ratelimit-limit')).toBe('5');
    expect(refused.headers.get('ratelimit-remaining')).toBe('0');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await refused.json()).toEqual({ error: expect.stringMatching(/at most 5 a minute per API key/) });
    const uploads = await fetch(`${one.url}/uploads`, { method: 'POST', headers: { ...bearer(ALICE), 'Content-Type': 'application/json' }, body: '{}' });
    expect(uploads.status).toBe(429);
    expect((await submit(two, BOB)).status).toBe(202);
  });

  it('limits a client address across keys, and an open router per address', async () => {
    const keyed = await start({ RATE_LIMIT_SUBMITS_PER_MINUTE: '3', RATE_LIMIT_SUBMITS_PER_MINUTE_PER_ADDRESS: '4' });
    const statuses = [];
    for (const secret of [ALICE, BOB, ALICE, BOB, ALICE]) statuses.push((await submit(keyed, secret)).status);
    expect(statuses).toEqual([202, 202, 202, 202, 429]);
    const open = await startLocalRouter({ PROCESSOR_ADDR: processor.address, IMAGE_URL_ALLOWLIST: '127.0.0.1', RATE_LIMIT_SUBMITS_PER_MINUTE: '2' });
    routers.push(open);
    const openStatuses = [];
    for (let i = 0; i < 3; i++) openStatuses.push((await submit(open, 'ignored')).status);
    expect(openStatuses).toEqual([202, 202, 429]);
  });

  it('counts the client address X-Forwarded-For gives only behind a TRUST_PROXY', async () => {
    const open = async (env: Record<string, string>) => {
      const router = await startLocalRouter({ PROCESSOR_ADDR: processor.address, IMAGE_URL_ALLOWLIST: '127.0.0.1', RATE_LIMIT_SUBMITS_PER_MINUTE: '1', ...env });
      routers.push(router);
      return router;
    };
    const from = (router: LocalRouter, address: string) =>
      fetch(`${router.url}/protect`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'X-Forwarded-For': address },
        body: JSON.stringify({ artist_name: 'A', artwork_title: 'B', image_url: fixture.url('art.png') }),
      });
    const proxied = await open({ TRUST_PROXY: 'loopback' });
    expect([(await from(proxied, '203.0.113.1')).status, (await from(proxied, '203.0.113.1')).status, (await from(proxied, '203.0.113.2')).status]).toEqual([202, 429, 202]);
    const direct = await open({});
    expect([(await from(direct, '203.0.113.1')).status, (await from(direct, '203.0.113.2')).status]).toEqual([202, 429]);
  });

  it('caps uploads in flight and open event streams per key', async () => {
    const router = await start({ MAX_CONCURRENT_UPLOADS_PER_KEY: '1', MAX_EVENT_STREAMS_PER_KEY: '1' });
    const { body, contentType } = multipart([
      { name: 'artist_name', value: 'A' },
      { name: 'artwork_title', value: 'B' },
      { name: 'image', value: pngLike(2 * MiB), filename: 'a.png', type: 'image/png' },
    ]);
    const slow = await sendPartOf(router.port, '/protect', Buffer.concat([Buffer.from(''), body]), `${contentType}\r\nAuthorization: Bearer ${ALICE}`, MiB);
    try {
      const second = await fetch(`${router.url}/protect`, { method: 'POST', headers: { ...bearer(ALICE), 'Content-Type': contentType }, body });
      expect(second.status).toBe(429);
      expect(second.headers.get('retry-after')).toBeTruthy();
      expect([second.headers.get('ratelimit-limit'), second.headers.get('ratelimit-remaining')]).toEqual(['1', '0']);
      const other = await fetch(`${router.url}/protect`, { method: 'POST', headers: { ...bearer(BOB), 'Content-Type': contentType }, body });
      expect(other.status).not.toBe(429);
    } finally {
      slow.destroy();
    }
    // a job held at its fetch, so its first event stream stays open
    const stall = fixture.nextStall();
    const held = await fetch(`${router.url}/protect`, {
      method: 'POST',
      headers: { ...bearer(ALICE), 'Content-Type': 'application/json' },
      body: JSON.stringify({ artist_name: 'A', artwork_title: 'B', image_url: fixture.url('stall') }),
    });
    const { job_id } = (await held.json()) as { job_id: string };
    await stall;
    try {
      const first = await fetch(`${router.url}/jobs/${job_id}/events`, { headers: bearer(ALICE) });
      expect(first.status).toBe(200);
      const second = await fetch(`${router.url}/jobs/${job_id}/events`, { headers: bearer(ALICE) });
      expect(second.status).toBe(429);
      expect(second.headers.get('ratelimit-limit')).toBe('1');
      await first.body?.cancel();
      await second.body?.cancel();
    } finally {
      for (const stalled of fixture.stalled.splice(0)) stalled.destroy();
    }
  });
});

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { makePng } from '../../../processor-stub/test/contract/images';
import { HttpFixture, startHttpFixture } from '../../../processor-stub/test/contract/http-fixture';
import { LocalProcessor, LocalRouter, jobCount, startLocalProcessor, startLocalRouter, waitForJob } from '../harness';
import { freePort } from '../ports';
import { describeWithRedis, startPrivateRedis } from './redis';

/* Jobs queued in a Redis with an append-only file survive that Redis crashing mid-flight. */
describeWithRedis('queued jobs across a Redis crash (persistence on)', () => {
  let fixture: HttpFixture;
  let aofDir: string;

  beforeAll(async () => {
    fixture = await startHttpFixture({ 'art.png': await makePng(64, 48, 3) });
    aofDir = fs.mkdtempSync(path.join(os.tmpdir(), 'artorizer-redis-aof-'));
  });

  afterAll(async () => {
    await fixture.close();
    fs.rmSync(aofDir, { recursive: true, force: true });
  });

  it('completes every job accepted before and after Redis is killed and restarted, each once', async () => {
    const redisPort = await freePort();
    let redis = await startPrivateRedis({ port: redisPort, aofDir });
    const processorPort = await freePort();
    const router = await startLocalRouter({
      REDIS_URL: redis.url,
      REDIS_PREFIX: 'crash',
      PROCESSOR_ADDR: `127.0.0.1:${processorPort}`,
      IMAGE_URL_ALLOWLIST: '127.0.0.1/32',
      HEALTH_CHECK_INTERVAL_MS: '100',
      DISPATCH_BACKOFF_MS: '50',
    });
    let processor: LocalProcessor | undefined;
    const submit = async (r: LocalRouter) => {
      const res = await fetch(`${r.url}/protect`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ artist_name: 'A', artwork_title: 'Crash', image_url: fixture.url('art.png') }) });
      expect(res.status).toBe(202);
      return ((await res.json()) as { job_id: string }).job_id;
    };
    try {
      // The processor is down: every job waits in the queue while Redis dies.
      const before = [await submit(router), await submit(router), await submit(router)];
      await redis.kill();
      redis = await startPrivateRedis({ port: redisPort, aofDir });
      const after = [await submit(router), await submit(router)];

      processor = await startLocalProcessor({ GRPC_PORT: String(processorPort) });
      for (const id of [...before, ...after]) expect(await waitForJob(router.url, id)).toMatchObject({ status: 'completed' });
      expect(jobCount(processor)).toBe(5);
    } finally {
      await router.stop(100);
      await processor?.stop(100);
      await redis.stop();
    }
  });
});

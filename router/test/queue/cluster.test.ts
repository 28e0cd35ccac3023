import { setTimeout as sleep } from 'node:timers/promises';
import { Cluster } from 'ioredis';
import { HttpFixture, makePng, startHttpFixture } from '@artorizer/testkit';
import { queuePrefix, recordsPrefix } from '../../src/queue/keys';
import { RedisConnection } from '../../src/redis';
import { RedisLocker } from '../../src/tus/redis-locker';
import { LocalRouter, startLocalRouter } from '../harness';
import { freePort } from '../ports';
import { RedisTestTarget, describeWithRedisCluster, uniquePrefix } from './redis';

/* What the queue's own suites do not reach on a Redis Cluster: rate limits, tus locks, and a replica that does not acknowledge. */
let fixture: HttpFixture;
const submit = async (router: LocalRouter) => {
  const body = JSON.stringify({ artist_name: 'A', artwork_title: 'B', image_url: fixture.url('art.png') });
  const res = await fetch(`${router.url}/protect`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

async function ready(connection: RedisConnection): Promise<Cluster> {
  const cluster = connection as Cluster;
  if (cluster.status !== 'ready') await new Promise<void>((resolve, reject) => cluster.once('ready', resolve).once('error', reject));
  return cluster;
}

describeWithRedisCluster('Redis Cluster: rate limits, tus locks, replica acknowledgements', (target: RedisTestTarget) => {
  const prefixes: string[] = [];
  const routers: LocalRouter[] = [];
  const connections: RedisConnection[] = [];
  let processorAddr: string;

  beforeAll(async () => {
    fixture = await startHttpFixture({ 'art.png': await makePng(32, 32, 1) });
    // no processor answers there: every submit waits in the queue
    processorAddr = `127.0.0.1:${await freePort()}`;
  });

  afterEach(async () => {
    await Promise.all(routers.splice(0).map((r) => r.stop(100)));
    for (const c of connections.splice(0)) c.disconnect();
  });

  afterAll(async () => {
    await fixture.close();
    for (const p of prefixes) await target.dropPrefix(p);
  });

  const start = async (prefix: string, env: Record<string, string> = {}) => {
    const router = await startLocalRouter({ ...target.env(), REDIS_PREFIX: prefix, PROCESSOR_ADDR: processorAddr, IMAGE_URL_ALLOWLIST: '127.0.0.1', ...env });
    routers.push(router);
    return router;
  };
  const prefix = (name: string) => {
    const p = uniquePrefix(name);
    prefixes.push(p);
    return p;
  };
  const admin = async () => {
    const connection = target.connect();
    connections.push(connection);
    return ready(connection);
  };

  it("counts submits per address in the cluster, shared by routers, and after every master lost its scripts (rate-limit-redis's EVALSHA finds none)", async () => {
    const p = prefix('rate');
    const one = await start(p, { RATE_LIMIT_SUBMITS_PER_MINUTE: '5' });
    const two = await start(p, { RATE_LIMIT_SUBMITS_PER_MINUTE: '5' });
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await submit(i % 2 ? two : one)).status);
    const cluster = await admin();
    await Promise.all(cluster.nodes('master').map((node) => node.script('FLUSH')));
    for (let i = 3; i < 8; i++) statuses.push((await submit(i % 2 ? two : one)).status);
    expect(statuses).toEqual([202, 202, 202, 202, 202, 429, 429, 429]);
    expect(await target.keys(`${p}:rate:*`)).toHaveLength(1);
  });

  it('hands a tus upload lock from one router to another through the cluster: the waiter asks, the holder lets go', async () => {
    const p = prefix('locks');
    const options = { prefix: `${p}:`, ttlMs: 3000, acquireTimeoutMs: 10_000 };
    const lockers = await Promise.all(
      [0, 1].map(async () => {
        const redis = target.connect();
        const subscriber = target.connect({ maxRetriesPerRequest: null });
        connections.push(redis, subscriber);
        const locker = new RedisLocker(redis, subscriber, options);
        locker.start((err) => {
          throw err;
        });
        await ready(subscriber);
        return locker;
      }),
    );
    const held = lockers[0].newLock('upload-1');
    let asked = 0;
    await held.lock(new AbortController().signal, async () => {
      asked++;
      await held.unlock();
    });
    const waiter = lockers[1].newLock('upload-1');
    const started = Date.now();
    await waiter.lock(new AbortController().signal, async () => undefined);
    expect(asked).toBe(1);
    // taken over on request, not after the holder's lock lapsed
    expect(Date.now() - started).toBeLessThan(options.ttlMs);
    await waiter.unlock();
    expect(await target.keys(`${p}:tus-lock:*`)).toEqual([]);
  });

  it("refuses a submit (503) that no replica of the queue's master acknowledged, and leaves no job behind; accepts again once the replica answers", async () => {
    const cluster = target.cluster;
    if (!cluster) throw new Error('this test freezes a node of the cluster it started: unset TEST_REDIS_CLUSTER_NODES');
    const p = prefix('unacknowledged');
    const router = await start(p);
    expect((await submit(router)).status).toBe(202);
    const { replicas } = await cluster.ownersOf(queuePrefix(p));
    expect(replicas).toHaveLength(1);
    cluster.signal(replicas[0], 'SIGSTOP');
    let refused: Awaited<ReturnType<typeof submit>>;
    try {
      const started = Date.now();
      refused = await submit(router);
      expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    } finally {
      cluster.signal(replicas[0], 'SIGCONT');
    }
    expect(refused).toEqual({ status: 503, body: { error: expect.stringMatching(/queue unavailable/) } });
    expect(await target.keys(`${recordsPrefix(p)}job:*`)).toHaveLength(1);
    // the replica catches up (it may have been marked failed meanwhile): submits are accepted again
    const deadline = Date.now() + 30_000;
    let again = await submit(router);
    while (again.status !== 202 && Date.now() < deadline) {
      await sleep(200);
      again = await submit(router);
    }
    expect(again.status).toBe(202);
    expect(await target.keys(`${recordsPrefix(p)}job:*`)).toHaveLength(2);
  });
});

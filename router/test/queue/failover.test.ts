import { ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { HttpFixture, makePng, startHttpFixture } from '@artorizer/testkit';
import { queuePrefix } from '../../src/queue/keys';
import { LocalProcessor, LocalRouter, startLocalProcessor, startLocalRouter } from '../harness';
import { RedisTestTarget, describeWithRedisCluster, uniquePrefix } from './redis';

/* Queued submission on a real Redis Cluster (three masters, a replica each) that loses the master holding the queue. */
const REPO_ROOT = path.resolve(__dirname, '../../..');
const meta = { artist_name: 'Jane Doe', artwork_title: 'Failover', include_protection: false, processors: 'metadata' };
let fixture: HttpFixture;

beforeAll(async () => {
  fixture = await startHttpFixture({ 'art.png': await makePng(96, 64, 4) });
});

afterAll(async () => {
  await fixture.close();
});

async function submit(router: LocalRouter): Promise<{ status: number; id?: string }> {
  try {
    const res = await fetch(`${router.url}/protect`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ ...meta, image_url: fixture.url('art.png') }) });
    const body = (await res.json()) as { job_id?: string };
    return { status: res.status, id: res.status === 202 ? body.job_id : undefined };
  } catch {
    return { status: 0 };
  }
}

/** Polls GET /jobs/:id until the job has ended (the SSE stream may miss an update while its subscriber moves to another node). */
async function ending(router: LocalRouter, id: string, deadline: number): Promise<Record<string, unknown>> {
  for (;;) {
    const res = await fetch(`${router.url}/jobs/${id}`).catch(() => undefined);
    const job = res?.ok ? ((await res.json()) as Record<string, unknown>) : { job_id: id, status: `http ${res?.status ?? 'error'}` };
    if (['completed', 'failed', 'cancelled'].includes(String(job.status)) || Date.now() >= deadline) return job;
    await sleep(200);
  }
}

/** `make dispatcher` as a process of its own. */
function startDispatcherProcess(env: Record<string, string>): { process: ChildProcess; exited: Promise<unknown> } {
  const child = spawn(path.join(REPO_ROOT, 'node_modules/.bin/tsx'), ['router/src/dispatcher-main.ts'], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'inherit'],
    detached: true,
  });
  return { process: child, exited: new Promise((resolve) => child.once('exit', resolve)) };
}

/** How many of the processor's jobs carry each idempotency key (the dispatcher's is the router's job id). */
function runsPerKey(processor: LocalProcessor): Map<string, number> {
  const runs = new Map<string, number>();
  for (const job of processor.processor.jobs.all()) runs.set(job.spec.idempotencyKey, (runs.get(job.spec.idempotencyKey) ?? 0) + 1);
  return runs;
}

function environment(target: RedisTestTarget, prefix: string, processor: LocalProcessor): Record<string, string> {
  return {
    ...target.env(),
    REDIS_PREFIX: prefix,
    PROCESSOR_ADDR: processor.address,
    IMAGE_URL_ALLOWLIST: '127.0.0.1/32',
    HEALTH_CHECK_INTERVAL_MS: '100',
    DISPATCH_BACKOFF_MS: '50',
    // a job whose completion the dead master took with it is active again on its replica: found stalled after this
    DISPATCH_LOCK_MS: '5000',
    RATE_LIMIT_SUBMITS_PER_MINUTE: '0',
  };
}

describeWithRedisCluster('queued submission through a Redis Cluster failover', (target) => {
  it('completes every job it accepted (202) while the master holding the queue is SIGKILLed and a replica takes over; the processor runs each once', async () => {
    const cluster = target.cluster;
    if (!cluster) throw new Error('this test kills a node of the cluster it started: unset TEST_REDIS_CLUSTER_NODES');
    const prefix = uniquePrefix('failover');
    const processor = await startLocalProcessor({ PROCESSOR_CONCURRENCY: '4' });
    const env = environment(target, prefix, processor);
    // an edge without a dispatcher, a router with one, and `make dispatcher`
    const edge = await startLocalRouter({ ...env, DISPATCHER: 'off' });
    const inline = await startLocalRouter(env);
    const dispatcher = startDispatcherProcess(env);
    const answers: { status: number; id?: string; afterFailover: boolean }[] = [];
    let failedOver = false;
    let stopping = false;
    try {
      const submitters = Array.from({ length: 4 }, async (_, n) => {
        for (let i = 0; !stopping; i++) {
          const answer = await submit((n + i) % 2 ? edge : inline);
          answers.push({ ...answer, afterFailover: failedOver });
          if (answer.status !== 202) await sleep(20);
        }
      });
      const accepted = (after: boolean) => answers.filter((a) => a.status === 202 && a.afterFailover === after).length;
      const waitFor = async (what: string, check: () => boolean, ms: number) => {
        const deadline = Date.now() + ms;
        while (!check()) {
          if (Date.now() >= deadline) throw new Error(`${what} did not happen within ${ms} ms`);
          await sleep(50);
        }
      };
      await waitFor('40 accepted submits', () => accepted(false) >= 40, 60_000);
      const owners = await cluster.ownersOf(queuePrefix(prefix));
      expect(owners.replicas).toHaveLength(1);
      // every accepted submit so far waited for the replica's acknowledgement (Redis WAIT)
      const stats = String(await cluster.command(owners.master, 'INFO', 'commandstats'));
      expect(Number(/cmdstat_wait:calls=(\d+)/.exec(stats)?.[1] ?? 0)).toBeGreaterThan(0);
      const { killed, promoted } = await cluster.killMasterOf(queuePrefix(prefix));
      failedOver = true;
      expect([killed, promoted]).toEqual([owners.master, owners.replicas[0]]);
      await waitFor('40 accepted submits after the failover', () => accepted(true) >= 40, 90_000);
      stopping = true;
      await Promise.all(submitters);

      const ids = answers.flatMap((a) => (a.status === 202 ? [a.id!] : []));
      const refused = answers.filter((a) => a.status !== 202);
      process.stderr.write(`[failover] ${ids.length} accepted (${accepted(false)} before the kill), ${refused.length} refused (${[...new Set(refused.map((r) => r.status))].join(', ') || 'none'})\n`);
      // only an outage's 503, never a lost or broken submit
      expect(refused.filter((r) => r.status !== 503)).toEqual([]);
      const deadline = Date.now() + 120_000;
      const ends = await Promise.all(ids.map((id) => ending(edge, id, deadline)));
      expect(ends.filter((job) => job.status !== 'completed')).toEqual([]);
      const runs = runsPerKey(processor);
      expect(ids.filter((id) => runs.get(id) !== 1)).toEqual([]);
      expect([...runs.values()].filter((count) => count > 1)).toEqual([]);
    } finally {
      stopping = true;
      if (dispatcher.process.exitCode === null && dispatcher.process.signalCode === null) process.kill(-dispatcher.process.pid!, 'SIGTERM');
      await dispatcher.exited;
      await inline.stop(100);
      await edge.stop(100);
      await processor.stop(100);
      await target.dropPrefix(prefix);
    }
  }, 300_000);
});

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { makePng } from '@artorizer/testkit';
import { HostsCluster, ProcessorHost, RouterOnHost, startHosts } from '../../../bench/lib/hosts';
import { labUnavailableQuick, teardownAll } from '../../../bench/lib/netns';
import { Service } from '../../../bench/lib/stack';
import { Attempt, ClientRequest, FailoverClient } from './failover-client';

/*
 * Several hosts on this machine, each a network namespace on one switch (bench/lib/hosts.ts):
 * Redis, the store, two processor hosts, two router hosts, and this process as the client.
 * A stream of multipart uploads and queued submits goes through both routers; in the middle
 * of it one router host and one processor host are cut off (their switch ports taken down:
 * their connections hang, nothing resets them). Then: every accepted job completes exactly
 * once, the client's failed attempts are the ones in flight on the cut router and were
 * retried with the same idempotency key, and every job is readable through the surviving
 * router. Needs root (ip netns); skipped with the reason otherwise.
 *
 * Everything is observed from outside, as a client and an operator would: the routers' HTTP
 * API and the processors' own (their HTTP API and their "job accepted" log lines, which name
 * the router job a dispatcher submitted). HOSTS_TEST_VERBOSE=1 prints every attempt.
 */

const CONCURRENCY = 4;
/** Requests before the cut may happen, and at least as many after it. */
const BEFORE_CUT = 12;
const AFTER_CUT = 12;
const MAX_REQUESTS = 120;
/** The client's bound on one attempt: how long it waits on a router that does not answer. */
const ATTEMPT_TIMEOUT_MS = 6000;
/** How long the cut may wait for a request in flight on the router and a job in flight on the processor it cuts. */
const CUT_WAIT_MS = 10_000;
const SETTLE_MS = 75_000;
const TERMINAL = ['completed', 'failed', 'cancelled'];

const ROUTER_ENV = {
  TRANSFER_MODE: 's3',
  REDIS_PREFIX: 'hosts',
  // a job whose dispatcher is cut off is taken up by another within about twice this
  DISPATCH_LOCK_MS: '3000',
  HEALTH_CHECK_INTERVAL_MS: '250',
  DISPATCH_BACKOFF_MS: '250',
  GRPC_DEADLINE_MS: '2000',
  // a watch of a job on a cut processor hangs (no reset) until this deadline
  GRPC_STREAM_DEADLINE_MS: '10000',
};

const skip = labUnavailableQuick(['ip', 'redis-server']);
const describeHosts = skip ? describe.skip : describe;
if (skip) process.stderr.write(`\n[hosts] not run: ${skip}\n`);

/** router job id -> processor job ids, from a processor's "job accepted" log lines (a dispatcher's request id names the router job). */
function acceptedJobs(processor: ProcessorHost): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const line of processor.service.logLines) {
    let entry: { msg?: string; rpc?: string; jobId?: string; requestId?: string };
    try {
      entry = JSON.parse(line) as typeof entry;
    } catch {
      continue;
    }
    if (entry.msg !== 'job accepted' || entry.rpc !== 'SubmitJobByReference' || !entry.jobId || !entry.requestId?.startsWith('dispatch-')) continue;
    const id = entry.requestId.slice('dispatch-'.length);
    out.set(id, (out.get(id) ?? new Set()).add(entry.jobId));
  }
  return out;
}

/** The router jobs a processor holds unfinished, asked through its own HTTP API. */
async function activeOn(processor: ProcessorHost): Promise<string[]> {
  const active: string[] = [];
  await Promise.all(
    [...acceptedJobs(processor)].map(async ([id, jobs]) => {
      for (const job of jobs) {
        const res = await fetch(`${processor.httpUrl}/v1/jobs/${job}`, { signal: AbortSignal.timeout(2000) });
        const status = ((await res.json()) as { status?: string }).status;
        if (!TERMINAL.includes(String(status))) active.push(id);
      }
    }),
  );
  return active;
}

const describeAttempt = (r: ClientRequest, a: Attempt, t0: number) =>
  `#${r.index} ${r.kind} ${a.step} via ${a.router} ${a.startedAt - t0}-${a.endedAt - t0} ms: ${a.ok ? `HTTP ${a.status}` : a.error}`;

describeHosts('hosts in network namespaces: a router host and a processor host cut off mid-stream', () => {
  const services: Service[] = [];
  let tempDir: string;
  let cluster: HostsCluster | undefined;
  let r1: RouterOnHost;
  let r2: RouterOnHost;
  const log = (m: string) => process.stderr.write(`[hosts] ${m}\n`);
  const lastResort = () => {
    for (const s of services) s.killNow();
    teardownAll();
  };

  beforeAll(async () => {
    process.once('exit', lastResort);
    tempDir = fs.mkdtempSync(path.join(os.tmpdir(), 'artorizer-hosts-'));
    // processors log "job accepted" (info) with the dispatcher's request id; one job at a time, so jobs are in flight at the cut
    cluster = await startHosts({ routerHosts: 2, processorHosts: 2, tempDir, services, log, processorEnv: { LOG_LEVEL: 'info', PROCESSOR_CONCURRENCY: '1' } });
    [r1, r2] = await Promise.all([cluster.startRouter('r1', 'r1', ROUTER_ENV), cluster.startRouter('r2', 'r2', ROUTER_ENV)]);
    await Promise.all([cluster.waitReady(r1, 2), cluster.waitReady(r2, 2)]);
  }, 90_000);

  afterAll(async () => {
    await cluster?.stop();
    for (const s of services) s.killNow();
    teardownAll();
    process.removeListener('exit', lastResort);
    if (tempDir) fs.rmSync(tempDir, { recursive: true, force: true });
  }, 60_000);

  it('every accepted job completes exactly once; failed attempts are those in flight on the cut router, retried with the same key; jobs readable through the survivor', async () => {
    const c = cluster!;
    const [p1, p2] = c.processors;
    const image = await makePng(480, 360, 5);
    const client = new FailoverClient(
      [
        { label: r1.label, url: r1.url },
        { label: r2.label, url: r2.url },
      ],
      image,
      ATTEMPT_TIMEOUT_MS,
    );
    const t0 = Date.now();
    let cutAt = 0;
    let cutDone = 0;
    let startedAtCut = 0;
    let r2InflightAtCut = 0;
    let activeOnP2AtCut: string[] = [];

    // The cut comes once the stream is under way, while a request is in flight on r2 and a job on p2.
    const cut = async () => {
      const deadline = Date.now() + CUT_WAIT_MS;
      while (Date.now() < deadline) {
        if (client.started >= BEFORE_CUT && client.inflightAt(r2.label) > 0) {
          activeOnP2AtCut = await activeOn(p2);
          if (activeOnP2AtCut.length > 0 && client.inflightAt(r2.label) > 0) break;
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      r2InflightAtCut = client.inflightAt(r2.label);
      cutAt = Date.now();
      await Promise.all([c.lab.cut(r2.host), c.lab.cut(p2.name)]);
      cutDone = Date.now();
      startedAtCut = client.started;
      log(`cut r2 and p2 at +${cutAt - t0} ms, after ${startedAtCut} requests: ${r2InflightAtCut} request(s) in flight on r2, ${activeOnP2AtCut.length} job(s) unfinished on p2`);
    };
    try {
      await Promise.all([cut(), client.run(CONCURRENCY, MAX_REQUESTS, () => cutDone > 0 && client.started >= startedAtCut + AFTER_CUT)]);
    } finally {
      if (process.env.HOSTS_TEST_VERBOSE) for (const r of client.requests) for (const a of r.attempts) log(describeAttempt(r, a, t0));
    }
    log(`stream done at +${Date.now() - t0} ms`);

    // Every request ends up accepted, on its first attempt or through the surviving router.
    const requests = [...client.requests].sort((a, b) => a.index - b.index);
    const unaccepted = requests.filter((r) => !r.jobId);
    expect(unaccepted.map((r) => r.attempts.map((a) => describeAttempt(r, a, t0)).join('; '))).toEqual([]);

    // The failed attempts are exactly the attempts on r2 that had not ended when the cut began
    // (in flight then, or sent before the client saw r2 fail), and each was retried through r1.
    const all = requests.flatMap((r) => r.attempts.map((a) => ({ r, a })));
    const failed = all.filter(({ a }) => !a.ok);
    for (const { r, a } of failed) log(`failed: ${describeAttempt(r, a, t0)}`);
    // the cut caught work in flight on both cut hosts
    expect(r2InflightAtCut).toBeGreaterThan(0);
    expect(activeOnP2AtCut.length).toBeGreaterThan(0);
    expect(failed.length).toBeGreaterThan(0);
    expect(failed.filter(({ a }) => a.router !== r2.label || a.endedAt < cutAt).map(({ r, a }) => describeAttempt(r, a, t0))).toEqual([]);
    // an r2 answer that arrived after the cut must have been on its way before it (read late by a busy event loop)
    const lateSuccess = all.filter(({ a }) => a.ok && a.router === r2.label && a.endedAt > cutDone + 1000);
    expect(lateSuccess.map(({ r, a }) => describeAttempt(r, a, t0))).toEqual([]);
    for (const { r } of failed) {
      const last = r.attempts[r.attempts.length - 1];
      expect({ request: r.index, router: last.router, ok: last.ok }).toEqual({ request: r.index, router: r1.label, ok: true });
    }

    // One job per idempotency key: a retried request got the job its first attempt may have
    // written, never a second one (a second one would be dispatched: the processors would name it).
    const jobIds = new Set(requests.map((r) => r.jobId!));
    expect(jobIds.size).toBe(requests.length);

    // Every job reaches `completed`, read through the surviving router.
    const deadline = Date.now() + SETTLE_MS;
    const states = new Map<string, Record<string, unknown>>();
    for (;;) {
      const open = requests.filter((r) => !TERMINAL.includes(String(states.get(r.jobId!)?.status)));
      if (open.length === 0 || Date.now() > deadline) break;
      await Promise.all(
        open.map(async (r) => {
          const res = await fetch(`${r1.url}/jobs/${r.jobId}`, { signal: AbortSignal.timeout(5000) });
          expect(res.status).toBe(200);
          states.set(r.jobId!, (await res.json()) as Record<string, unknown>);
        }),
      );
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    log(`jobs settled at +${Date.now() - t0} ms`);
    const onP1 = acceptedJobs(p1);
    const onP2 = acceptedJobs(p2);
    const notCompleted = requests
      .filter((r) => states.get(r.jobId!)?.status !== 'completed')
      .map(
        (r) =>
          `${r.jobId} (#${r.index} ${r.kind}; accepted by ${[onP1.has(r.jobId!) ? 'p1' : '', onP2.has(r.jobId!) ? 'p2 (cut)' : ''].filter(Boolean).join(' and ') || 'no processor'}): ${JSON.stringify(states.get(r.jobId!) ?? null)}`,
      );
    expect(notCompleted).toEqual([]);

    // Exactly once on the processors: the jobs they were handed are the accepted ones, no other,
    // and each holds at most one job per router job (its idempotency key). A job handed to both
    // is one the cut processor had when it was cut (it may even have finished it, unheard).
    expect([...new Set([...onP1.keys(), ...onP2.keys()])].sort()).toEqual([...jobIds].sort());
    for (const [id, jobs] of [...onP1, ...onP2]) expect({ id, jobs: jobs.size }).toEqual({ id, jobs: 1 });
    const onBoth = [...onP1.keys()].filter((id) => onP2.has(id));
    // What the cut processor did with the jobs it was handed, asked once its link is back: a job
    // it finished although the router never heard was processed twice (its result recorded once).
    await c.lab.restore(p2.name);
    const p2States = await Promise.all(
      onBoth.map(async (id) => {
        const [job] = onP2.get(id)!;
        try {
          const res = await fetch(`${p2.httpUrl}/v1/jobs/${job}`, { signal: AbortSignal.timeout(5000) });
          return String(((await res.json()) as { status?: string }).status);
        } catch (err) {
          return `unknown (${(err as Error).message})`;
        }
      }),
    );
    const attempts = requests.map((r) => Number(states.get(r.jobId!)?.attempts));
    log(
      `${requests.length} jobs completed: ${onP1.size} handed to p1, ${onP2.size} to p2, ${onBoth.length} to both (re-dispatched after the cut; on p2 they ended ${JSON.stringify(p2States)}); ` +
        `dispatch attempts ${Math.min(...attempts)}-${Math.max(...attempts)}; ${failed.length} client attempt(s) failed, all on r2 and retried through r1`,
    );
  }, 150_000);
});

import { setTimeout as delay } from 'node:timers/promises';
import fs from 'node:fs';
import os from 'node:os';
import { Redis } from 'ioredis';
import { grantSequence, json, safeTicks, ticksToPercent } from './api';
import { curlUpload } from './client';
import { directUpload } from './direct-client';
import { writeTestFile } from './files';
import { HostsCluster, RouterOnHost, startHosts } from './hosts';
import { jobIdOf } from './job-sample';
import { LoadGenerator } from './load-client';
import { sequenceId } from './load-types';
import { machineTicks } from './memory';
import { unavailableReason } from './netns';
import { writePhoto } from './photo';
import { CLIENT_FIELDS } from './serialization';
import { Service } from './stack';
import { Summary, percentile, roundOrder, summarize } from './stats';

/**
 * Throughput per host (`make bench`, section `hosts`): the same work with one router host and
 * with two, and with one processor host and with two, every host a network namespace of this
 * machine (bench/lib/hosts.ts), the benchmark itself the client on the same switch.
 *
 * - submit: queued submits a second (POST /protect {upload_id}, routers with DISPATCHER=off, so
 *   the queue just grows), autocannon closed loop, its connections spread over the routers.
 * - stream: 10 MiB multipart uploads a second, TRANSFER_MODE=stream (relayed to a processor
 *   as they arrive), curl clients a few at a time spread over the routers.
 * - jobs: queued jobs a second from submit to `completed` (a direct upload of a real photograph,
 *   dispatched by the routers' inline dispatchers, processed for real), a few at a time.
 *
 * All hosts share this machine's cores: two hosts of a kind get more processes, not more CPU.
 */

export type HostsMetric = 'submit' | 'stream' | 'jobs';

export interface HostsCell {
  label: string;
  metric: HostsMetric;
  routers: number;
  processors: number;
}

export interface HostsCpu {
  /** Busy share of all the machine's cores during the run, %. */
  machinePercent: number;
  /** % of one core, summed over the cell's routers / processors; the store; Redis. */
  routersPercent: number;
  processorsPercent: number;
  storePercent: number;
  redisPercent: number;
}

export interface HostsSample {
  phase: 'warmup' | 'measured';
  round: number;
  position: number;
  cell: string;
  metric: HostsMetric;
  routers: number;
  processors: number;
  /** Requests (submit), uploads (stream) or jobs (jobs) that succeeded. */
  done: number;
  /** Those that did not (non-2xx, errors, jobs not completed). */
  failed: number;
  seconds: number;
  /** done / seconds */
  rate: number;
  /** submit: autocannon's latency; stream and jobs: each one's time, ms. */
  p50Ms: number;
  p99Ms: number;
  cpu: HostsCpu;
  loadavg1: number;
  at: string;
}

export interface HostsRow extends HostsCell {
  rate: Summary;
  machinePercent: Summary;
  routersPercent: Summary;
  processorsPercent: Summary;
  failed: number;
}

/** What doubling hosts of a kind gave: the rate with two ÷ with one, paired within each round. */
export interface HostsScaling {
  metric: HostsMetric;
  kind: 'routers' | 'processors';
  one: string;
  two: string;
  ratio: Summary;
}

export interface HostsSection {
  description: string;
  cores: number;
  hosts: { name: string; ip: string }[];
  namespaces: string[];
  runs: number;
  options: HostsOptions;
  photo: { width: number; height: number; bytes: number };
  samples: HostsSample[];
  rows: HostsRow[];
  scaling: HostsScaling[];
}

export interface HostsSkipped {
  skipped: string;
}

export interface HostsOptions {
  /** autocannon connections and seconds per submit run. */
  connections: number;
  submitSeconds: number;
  /** Uploads per stream run, how many at once, and their size. */
  streamUploads: number;
  streamConcurrency: number;
  streamMiB: number;
  /** Jobs per jobs run and how many at once. */
  jobs: number;
  jobConcurrency: number;
  /** The photograph the jobs process. */
  photo: { width: number; height: number };
}

export const HOSTS_CELLS: readonly HostsCell[] = [
  { label: 'submit, 1 router', metric: 'submit', routers: 1, processors: 0 },
  { label: 'submit, 2 routers', metric: 'submit', routers: 2, processors: 0 },
  { label: 'stream, 1 router, 2 processors', metric: 'stream', routers: 1, processors: 2 },
  { label: 'stream, 2 routers, 2 processors', metric: 'stream', routers: 2, processors: 2 },
  { label: 'stream, 2 routers, 1 processor', metric: 'stream', routers: 2, processors: 1 },
  { label: 'jobs, 1 router, 2 processors', metric: 'jobs', routers: 1, processors: 2 },
  { label: 'jobs, 2 routers, 2 processors', metric: 'jobs', routers: 2, processors: 2 },
  { label: 'jobs, 2 routers, 1 processor', metric: 'jobs', routers: 2, processors: 1 },
];

const SCALINGS: readonly Omit<HostsScaling, 'ratio'>[] = [
  { metric: 'submit', kind: 'routers', one: 'submit, 1 router', two: 'submit, 2 routers' },
  { metric: 'stream', kind: 'routers', one: 'stream, 1 router, 2 processors', two: 'stream, 2 routers, 2 processors' },
  { metric: 'stream', kind: 'processors', one: 'stream, 2 routers, 1 processor', two: 'stream, 2 routers, 2 processors' },
  { metric: 'jobs', kind: 'routers', one: 'jobs, 1 router, 2 processors', two: 'jobs, 2 routers, 2 processors' },
  { metric: 'jobs', kind: 'processors', one: 'jobs, 2 routers, 1 processor', two: 'jobs, 2 routers, 2 processors' },
];

const SUBMIT_PREFIX = 'hosts-submit';
/** First group of the submits' upload ids (see sequenceId). */
const SUBMIT_SEQUENCE = 'a0570000';
const TERMINAL = ['completed', 'failed', 'cancelled'];

/** Runs `count` tasks, `concurrency` at a time. */
async function pool<T>(count: number, concurrency: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(count, concurrency) }, async () => {
      for (let i = next++; i < count; i = next++) out[i] = await task(i);
    }),
  );
  return out;
}

async function waitForJob(routerUrl: string, jobId: string, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await fetch(`${routerUrl}/jobs/${jobId}`);
    const status = res.ok ? String(((await res.json()) as { status?: string }).status) : `http-${res.status}`;
    if (TERMINAL.includes(status) || Date.now() > deadline) return status;
    await delay(100);
  }
}

export async function runHosts(
  o: HostsOptions & { runs: number; warmup: boolean; tempDir: string; services: Service[]; log: (m: string) => void; check: () => void },
): Promise<HostsSection | HostsSkipped> {
  const reason = await unavailableReason(['ip', 'curl', 'redis-server']);
  if (reason) return { skipped: reason };
  const { log } = o;
  const cluster: HostsCluster = await startHosts({ routerHosts: 2, processorHosts: 2, tempDir: o.tempDir, services: o.services, log });
  const generator = new LoadGenerator();
  let redis: Redis | undefined;
  try {
    const [p1] = cluster.processors;
    const group = (prefix: string, env: Record<string, string>) =>
      Promise.all(cluster.routerHosts.map((h) => cluster.startRouter(`${prefix}-${h.name}`, h.name, { REDIS_PREFIX: `hosts-${prefix}`, ...env })));
    // Per kind of run, one router per router host; a run with one router uses the first.
    const [submit, two, one] = await Promise.all([
      group('submit', { TRANSFER_MODE: 'direct', DISPATCHER: 'off' }),
      group('two', { TRANSFER_MODE: 'stream' }),
      group('one', { TRANSFER_MODE: 'stream', PROCESSOR_ADDR: cluster.processorAddr([p1]) }),
    ]);
    await Promise.all([...submit, ...two].map((r) => cluster.waitReady(r, 2)).concat(one.map((r) => cluster.waitReady(r, 1))));
    log(`hosts: routers ${cluster.routers.map((r) => `${r.label} ${r.url}`).join(', ')}; processors ${cluster.processors.map((p) => `${p.name} ${p.address}`).join(', ')}`);

    // Upload grants for every submit the runs can make (at 12,000 a second, twice the loopback rate measured in the api section).
    redis = new Redis(cluster.redisUrl, { maxRetriesPerRequest: 2 });
    const submitRuns = (o.runs + (o.warmup ? 1 : 0)) * 2;
    await grantSequence(redis, SUBMIT_PREFIX, SUBMIT_SEQUENCE, Math.ceil(submitRuns * o.submitSeconds * 12_000), '');
    const placeholder = sequenceId(SUBMIT_SEQUENCE, 0);
    const submitBody: Record<string, unknown> = { ...CLIENT_FIELDS, upload_id: placeholder };
    delete submitBody.idempotency_key;
    const file = writeTestFile(o.tempDir, o.streamMiB);
    const photo = await writePhoto(o.tempDir, o.photo.width, o.photo.height);

    const routersOf = (cell: HostsCell): RouterOnHost[] => (cell.metric === 'submit' ? submit : cell.processors === 1 ? one : two).slice(0, cell.routers);
    const processorsOf = (cell: HostsCell) => cluster.processors.slice(0, cell.metric === 'submit' ? cluster.processors.length : cell.processors);
    const storePid = cluster.storeService.pid;
    const redisPid = cluster.redisService.pid;

    const samples: HostsSample[] = [];
    const once = async (cell: HostsCell, where: Pick<HostsSample, 'phase' | 'round' | 'position'>): Promise<HostsSample> => {
      o.check();
      const routers = routersOf(cell);
      const processors = processorsOf(cell);
      const pids = { routers: routers.map((r) => r.service.pid), processors: processors.map((p) => p.service.pid) };
      const ticks = () => ({
        routers: pids.routers.reduce((n, pid) => n + (safeTicks(pid) ?? Number.NaN), 0),
        processors: pids.processors.reduce((n, pid) => n + (safeTicks(pid) ?? Number.NaN), 0),
        store: safeTicks(storePid) ?? Number.NaN,
        redis: safeTicks(redisPid) ?? Number.NaN,
        machine: machineTicks(),
      });
      let before = ticks();
      let started = performance.now();
      let done = 0;
      let failed = 0;
      let times: number[] = [];
      let latency: { p50: number; p99: number } | undefined;
      if (cell.metric === 'submit') {
        const [first, ...more] = routers.map((r) => `${r.url}/protect`);
        const result = await generator.run(
          {
            kind: 'max',
            connections: o.connections,
            durationSec: o.submitSeconds,
            request: {
              url: first,
              moreUrls: more,
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              bodyBase64: json(submitBody),
              idSequence: { placeholder, prefix: SUBMIT_SEQUENCE },
            },
          },
          () => {
            before = ticks();
            started = performance.now();
          },
        );
        done = result.ok2xx;
        failed = result.non2xx + result.errors;
        latency = { p50: result.latency.p50, p99: result.latency.p99 };
      } else if (cell.metric === 'stream') {
        const results = await pool(o.streamUploads, o.streamConcurrency, (i) => curlUpload(`${routers[i % routers.length].url}/protect`, 'image', file));
        done = results.filter((r) => r.status === 202).length;
        failed = results.length - done;
        times = results.map((r) => r.timeMs);
      } else {
        const results = await pool(o.jobs, o.jobConcurrency, async (i) => {
          const router = routers[i % routers.length];
          const t = performance.now();
          const submitted = await directUpload(router.url, photo.path, undefined, 'image/jpeg');
          const id = submitted.status === 202 ? jobIdOf(submitted.body) : undefined;
          const status = id ? await waitForJob(router.url, id, 300_000) : `submit HTTP ${submitted.status}`;
          return { status, ms: performance.now() - t };
        });
        done = results.filter((r) => r.status === 'completed').length;
        failed = results.length - done;
        times = results.map((r) => r.ms);
        if (failed > 0) log(`hosts ${cell.label}: ${failed} job(s) not completed: ${[...new Set(results.filter((r) => r.status !== 'completed').map((r) => r.status))].join(', ')}`);
      }
      const seconds = (performance.now() - started) / 1000;
      const after = ticks();
      const pct = (a: number, b: number) => ticksToPercent(a - b, seconds);
      const cpu: HostsCpu = {
        machinePercent: ((after.machine.busy - before.machine.busy) / Math.max(1, after.machine.total - before.machine.total)) * 100,
        routersPercent: pct(after.routers, before.routers),
        processorsPercent: pct(after.processors, before.processors),
        storePercent: pct(after.store, before.store),
        redisPercent: pct(after.redis, before.redis),
      };
      const sample: HostsSample = {
        ...where,
        cell: cell.label,
        metric: cell.metric,
        routers: cell.routers,
        processors: cell.processors,
        done,
        failed,
        seconds,
        rate: done / seconds,
        p50Ms: latency?.p50 ?? percentile(times, 50),
        p99Ms: latency?.p99 ?? percentile(times, 99),
        cpu,
        loadavg1: os.loadavg()[0],
        at: new Date().toISOString(),
      };
      samples.push(sample);
      log(
        `hosts ${where.phase} ${where.round} ${cell.label}: ${sample.rate.toFixed(cell.metric === 'submit' ? 0 : 2)}/s (${done} in ${seconds.toFixed(1)} s, ${failed} failed), p50 ${sample.p50Ms.toFixed(0)} ms; ` +
          `CPU machine ${cpu.machinePercent.toFixed(0)} %, routers ${cpu.routersPercent.toFixed(0)}, processors ${cpu.processorsPercent.toFixed(0)}, store ${cpu.storePercent.toFixed(0)}, redis ${cpu.redisPercent.toFixed(0)} (% of a core)`,
      );
      if (done === 0) throw new Error(`hosts ${cell.label}: nothing succeeded`);
      return sample;
    };

    if (o.warmup) for (const [i, cell] of HOSTS_CELLS.entries()) await once(cell, { phase: 'warmup', round: 0, position: i });
    for (let round = 1; round <= o.runs; round++) {
      for (const [i, cell] of roundOrder(HOSTS_CELLS, round - 1).entries()) await once(cell, { phase: 'measured', round, position: i });
    }

    const measured = samples.filter((s) => s.phase === 'measured');
    const rows = HOSTS_CELLS.map((cell): HostsRow => {
      const mine = measured.filter((s) => s.cell === cell.label);
      return {
        ...cell,
        rate: summarize(mine.map((s) => s.rate)),
        machinePercent: summarize(mine.map((s) => s.cpu.machinePercent)),
        routersPercent: summarize(mine.map((s) => s.cpu.routersPercent)),
        processorsPercent: summarize(mine.map((s) => s.cpu.processorsPercent)),
        failed: mine.reduce((n, s) => n + s.failed, 0),
      };
    });
    const scaling = SCALINGS.map((sc): HostsScaling => {
      const oneByRound = new Map(measured.filter((s) => s.cell === sc.one).map((s) => [s.round, s.rate]));
      return { ...sc, ratio: summarize(measured.filter((s) => s.cell === sc.two).map((s) => s.rate / (oneByRound.get(s.round) ?? Number.NaN))) };
    });
    for (const sc of scaling) log(`hosts scaling ${sc.metric} by ${sc.kind}: ${sc.two} ÷ ${sc.one} = ${sc.ratio.median.toFixed(2)}× (${sc.ratio.min.toFixed(2)}–${sc.ratio.max.toFixed(2)})`);
    return {
      description: `Redis, the store (s3rver), 2 processor hosts and 2 router hosts, each a network namespace of this machine on one bridge (veth pairs, no rate limit); the benchmark (and its load generator and curl clients) joined to the bridge from this machine's own namespace`,
      cores: os.cpus().length,
      hosts: Object.values(cluster.lab.hosts).map((h) => ({ name: h.name, ip: h.ip })),
      namespaces: cluster.lab.namespaces,
      runs: o.runs,
      options: {
        connections: o.connections,
        submitSeconds: o.submitSeconds,
        streamUploads: o.streamUploads,
        streamConcurrency: o.streamConcurrency,
        streamMiB: o.streamMiB,
        jobs: o.jobs,
        jobConcurrency: o.jobConcurrency,
        photo: o.photo,
      },
      photo: { width: photo.width, height: photo.height, bytes: photo.bytes },
      samples,
      rows,
      scaling,
    };
  } finally {
    redis?.disconnect();
    await generator.close();
    await cluster.stop();
    for (const f of fs.readdirSync(o.tempDir)) if (f.startsWith('bench-')) fs.rmSync(`${o.tempDir}/${f}`, { force: true });
  }
}

import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { uploadClaimKey } from '../../router/src/submit/upload-claims';
import { writeTestFile } from './files';
import { LoadGenerator } from './load-client';
import { LoadRequest, LoadResult, sequenceId } from './load-types';
import { CLK_TCK, machineTicks, processTicks } from './memory';
import { countPrefix, deletePrefix, serverInfo } from './redis-keys';
import { CLIENT_FIELDS } from './serialization';
import { Service, settleStarts, startHttpScript, startProcessor, startRouter, startStore } from './stack';
import { Summary, median, roundOrder, summarize } from './stats';
import { BUCKET, storeEnv } from './transfer-stack';

export type TargetName = 'submit' | 'submit-keyed' | 'status' | 'stream' | 'bare' | 'bare-prototypes';
/** max: closed loop; rate: autocannon overallRate at half the max; paced: open loop at half the max; light: open loop at LIGHT_RATE. */
/** `same-rate`: bare Express paced at the submit's half rate (the machine's floor at that rate). */
export type LoadMethod = 'max' | 'rate' | 'paced' | 'light' | 'same-rate';

/** Requests per second of the light-load latency runs: a response time with next to no queueing. */
export const LIGHT_RATE = 20;

export interface ApiOptions {
  runs: number;
  connections: number;
  maxSeconds: number;
  latencySeconds: number;
  warmupSeconds: number;
  /** Seconds the open-loop pacer runs at the rate before it measures. */
  pacerWarmupSeconds: number;
  redisUrl: string;
  /** REDIS_PREFIX of the queued router and of the stream router; the caller deletes their keys afterwards. */
  prefixes: { submit: string; stream: string; keyed: string };
  tempDir: string;
  services: Service[];
  log: (message: string) => void;
  check: () => void;
}

interface Target {
  name: TargetName;
  description: string;
  request: LoadRequest;
  /** The process that answers (its CPU is reported). */
  server: Service;
  /** Only the max-rate runs: its half rate is beyond what the open-loop pacer can drive. */
  maxOnly?: boolean;
}

export interface CpuDuringRun {
  /** ms of CPU per second of load, i.e. percent of one core ×10. Reported as % of one core. */
  serverPercent: number;
  generatorPercent: number;
  processorPercent?: number;
  storePercent?: number;
  redisPercent?: number;
  machineBusyPercent: number;
}

export interface ApiSample {
  phase: 'warmup' | 'measured';
  round: number;
  position: number;
  target: TargetName;
  method: LoadMethod;
  result: LoadResult;
  cpu: CpuDuringRun;
  loadavg1: number;
  at: string;
}

export interface ApiTargetSummary {
  target: TargetName;
  description: string;
  maxRate: Summary;
  /** The rate of the latency runs: median max rate / 2. */
  halfRate: number;
  rate: { achieved: Summary; p50: Summary; p99: Summary };
  paced: { achieved: Summary; p50: Summary; p99: Summary; p99FromSend: Summary };
  light: { p50: Summary; p99: Summary };
  non2xx: number;
  errors: number;
  serverCpuPercentAtMax: Summary;
  generatorCpuPercentAtMax: Summary;
}

export interface ApiSection {
  connections: number;
  maxSeconds: number;
  latencySeconds: number;
  runs: number;
  setup: { uploadId: string; jobId: string; redisPrefixes: string[]; redisVersion?: string; streamBodyBytes: number; jsonBodyBytes: number };
  samples: ApiSample[];
  summary: ApiTargetSummary[];
  /** submit max rate ÷ bare Express max rate, paired within each round. */
  submitVsBare: Summary;
  /** submit max rate ÷ max rate of bare Express served like the router (createExpressServer), paired within each round. */
  submitVsBarePrototypes?: Summary;
  /**
   * What API keys and rate limits cost the queued submit: the keyed router's max rate ÷ the open
   * router's, and its open-loop p99 at half rate ÷ the open one's, paired within each round.
   */
  keyedVsOpen?: { maxRate: Summary; pacedP99: Summary; keyedGrants: number };
  /**
   * Bare Express paced at the submit's half rate, in the same rounds: what the machine does to
   * the tail of a route that does nothing, at the rate the submit's latency is judged at.
   */
  bareAtSubmitRate?: { rate: number; p50: Summary; p99: Summary; submitP99Ratio: Summary };
  redisCleanup: { prefix: string; deleted: number; remaining: number }[];
}

/** The bench's API key (its SHA-256 is what the keys file holds). */
const BENCH_SECRET = 'art_bench-secret-not-for-production';
/** First group of the keyed and the open submits' upload ids (see sequenceId). */
const SEQUENCE_PREFIX = 'beec0000';
const OPEN_SEQUENCE_PREFIX = 'a11d0000';

/**
 * Upload grants enough for every submit of the run, at rates no run here reaches (10,000
 * req/s closed-loop, 5,000 at half rate, 20 light); a run beyond them would show as 400s.
 */
function grantCount(o: ApiOptions): number {
  return (o.warmupSeconds + o.runs * o.maxSeconds) * 10_000 + o.runs * 2 * o.latencySeconds * 5_000 + o.runs * o.latencySeconds * 20;
}

/** Writes the grants POST /uploads would have written for `owner` (the key's name; '' on an open router). */
export async function grantSequence(redis: Redis, prefix: string, sequence: string, count: number, owner: string): Promise<void> {
  for (let from = 0; from < count; from += 10_000) {
    const pipeline = redis.pipeline();
    for (let n = from; n < Math.min(count, from + 10_000); n++) pipeline.set(uploadClaimKey(`${prefix}:`, 'grant', sequenceId(sequence, n)), owner, 'EX', 3600);
    await pipeline.exec();
  }
}

/** a ÷ b of a figure, for the samples of the same round. */
function pairedRatio(a: ApiSample[], b: ApiSample[], figure: (s: ApiSample) => number): Summary {
  const byRound = new Map(b.map((s) => [s.round, figure(s)]));
  return summarize(a.map((s) => figure(s) / (byRound.get(s.round) ?? Number.NaN)));
}

export const json = (body: unknown): LoadRequest['bodyBase64'] => Buffer.from(JSON.stringify(body)).toString('base64');

/** A multipart body as curl -F sends it: fields first, then the image (in `fileField`: the processor's own POST /v1/jobs takes `file`). */
export function multipartBody(file: string, fileField = 'image'): { body: Buffer; contentType: string } {
  const boundary = '------------------------benchboundary7d1a';
  const part = (headers: string, content: Buffer | string) =>
    Buffer.concat([Buffer.from(`--${boundary}\r\n${headers}\r\n\r\n`), Buffer.isBuffer(content) ? content : Buffer.from(content), Buffer.from('\r\n')]);
  const body = Buffer.concat([
    part('Content-Disposition: form-data; name="artist_name"', 'Bench'),
    part('Content-Disposition: form-data; name="artwork_title"', 'Run'),
    part(`Content-Disposition: form-data; name="${fileField}"; filename="bench.png"\r\nContent-Type: image/png`, fs.readFileSync(file)),
    Buffer.from(`--${boundary}--\r\n`),
  ]);
  return { body, contentType: `multipart/form-data; boundary=${boundary}` };
}

async function expectStatus(res: Response, status: number, what: string): Promise<string> {
  const text = await res.text();
  if (res.status !== status) throw new Error(`${what}: HTTP ${res.status}, expected ${status}: ${text.slice(0, 300)}`);
  return text;
}

export function ticksToPercent(ticks: number, seconds: number): number {
  return seconds > 0 ? ((ticks * 1000) / CLK_TCK / (seconds * 1000)) * 100 : Number.NaN;
}

export function safeTicks(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    return processTicks(pid);
  } catch {
    return undefined;
  }
}

/**
 * The API benchmark: routers with REDIS_URL (the queued submit and status routes, and a
 * stream-mode router in front of a real processor) and a bare Express app, loaded by
 * autocannon (and an open-loop pacer) from a separate process.
 */
export async function runApi(o: ApiOptions): Promise<ApiSection> {
  const { services, log } = o;
  const prefixes = [o.prefixes.submit, o.prefixes.stream, o.prefixes.keyed];
  const redis = new Redis(o.redisUrl, { maxRetriesPerRequest: 2, lazyConnect: true });
  await redis.connect();
  const generator = new LoadGenerator();
  try {
    const info = await serverInfo(redis);
    let redisPid = info.pid;
    try {
      if (redisPid === undefined || !fs.readFileSync(`/proc/${redisPid}/comm`, 'utf8').includes('redis')) redisPid = undefined;
    } catch {
      redisPid = undefined;
    }
    const store = await startStore({ directory: path.join(o.tempDir, 'api-s3'), bucket: BUCKET, bind: '127.0.0.1' });
    services.push(store.service);
    const s3 = storeEnv(`http://127.0.0.1:${store.port}`);
    const processor = await startProcessor({ WORK_DIR: path.join(o.tempDir, 'api-processor'), MAX_QUEUED_JOBS: '1000000', SHUTDOWN_GRACE_MS: '0', ...s3 });
    services.push(processor.service);
    const common = { PROCESSOR_ADDR: `127.0.0.1:${processor.grpcPort}`, PROCESSOR_HTTP_URL: `http://127.0.0.1:${processor.httpPort}`, REDIS_URL: o.redisUrl, SHUTDOWN_GRACE_MS: '1000' };
    // The same queued router with API keys and rate limits: one key (allowed the priority the
    // client fields ask for), a per-minute limit no run reaches (every submit is counted in
    // Redis, none refused) and upload grants per key.
    const keysFile = path.join(o.tempDir, 'api-keys');
    fs.writeFileSync(keysFile, `bench:${createHash('sha256').update(BENCH_SECRET).digest('hex')}:max_priority=100\n`);
    const keyedEnv = { API_KEYS_FILE: keysFile, RATE_LIMIT_SUBMITS_PER_MINUTE: '1000000000', RATE_LIMIT_SUBMITS_PER_MINUTE_PER_ADDRESS: '1000000000' };
    const [queued, keyed, stream, bare, barePrototypes] = await settleStarts(
      [
        startRouter('api-queued', { ...common, ...s3, TRANSFER_MODE: 'direct', REDIS_PREFIX: prefixes[0], DISPATCHER: 'off' }),
        startRouter('api-queued-keyed', { ...common, ...s3, ...keyedEnv, TRANSFER_MODE: 'direct', REDIS_PREFIX: prefixes[2], DISPATCHER: 'off' }),
        startRouter('api-stream', { ...common, TRANSFER_MODE: 'stream', REDIS_PREFIX: prefixes[1] }),
        startHttpScript('bare-express', 'bench/lib/bare-express.ts', {}),
        startHttpScript('bare-express-prototypes', 'bench/lib/bare-express.ts', { BARE_SERVER: 'prototypes' }),
      ],
      services,
    );
    const queuedBase = `http://127.0.0.1:${queued.port}`;

    // One direct upload (100 KiB) for the submits to name, and one queued job for the status route.
    const image = writeTestFile(o.tempDir, 0.09765625); // 100 KiB
    const size = fs.statSync(image).size;
    const grant = JSON.parse(
      await expectStatus(
        await fetch(`${queuedBase}/uploads`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ content_type: 'image/png', size }) }),
        201,
        'POST /uploads',
      ),
    ) as { upload_id: string; url: string; headers: Record<string, string> };
    await expectStatus(await fetch(grant.url, { method: 'PUT', headers: grant.headers, body: fs.readFileSync(image) }), 200, 'PUT to the store');
    // Every submit is a new job: no idempotency key, and an upload_id of its own (a grant is
    // consumed by one submit): the load generator puts the next id of a sequence in place of this one.
    const submitBody: Record<string, unknown> = { ...CLIENT_FIELDS, upload_id: grant.upload_id };
    delete submitBody.idempotency_key;
    const first = JSON.parse(
      await expectStatus(await fetch(`${queuedBase}/protect`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(submitBody) }), 202, 'POST /protect {upload_id}'),
    ) as { job_id: string };
    await expectStatus(await fetch(`${queuedBase}/jobs/${first.job_id}`), 200, 'GET /jobs/:id');
    const multipart = multipartBody(image);

    const jsonHeaders = { 'content-type': 'application/json' };
    // The submits name upload ids granted beforehand (to the key, for the keyed router), in the
    // order the load generator sends them (a grant is what POST /uploads records; each is consumed once).
    const grants = grantCount(o);
    await grantSequence(redis, prefixes[0], OPEN_SEQUENCE_PREFIX, grants, '');
    await grantSequence(redis, prefixes[2], SEQUENCE_PREFIX, grants, 'bench');
    const targets: Target[] = [
      {
        name: 'submit',
        description: 'POST /protect {upload_id, …} (queued: Redis + BullMQ), router with REDIS_URL',
        request: { url: `${queuedBase}/protect`, method: 'POST', headers: jsonHeaders, bodyBase64: json(submitBody), idSequence: { placeholder: grant.upload_id, prefix: OPEN_SEQUENCE_PREFIX } },
        server: queued.service,
      },
      {
        name: 'submit-keyed',
        description: 'the same queued submit on a router with API_KEYS_FILE and rate limits (Authorization: Bearer; each submit counted per key and per address in Redis)',
        request: {
          url: `http://127.0.0.1:${keyed.port}/protect`,
          method: 'POST',
          headers: { ...jsonHeaders, authorization: `Bearer ${BENCH_SECRET}` },
          bodyBase64: json(submitBody),
          idSequence: { placeholder: grant.upload_id, prefix: SEQUENCE_PREFIX },
        },
        server: keyed.service,
      },
      {
        name: 'status',
        description: 'GET /jobs/:id of a queued job, router with REDIS_URL',
        request: { url: `${queuedBase}/jobs/${first.job_id}`, method: 'GET', headers: {} },
        server: queued.service,
      },
      {
        name: 'stream',
        description: 'POST /protect multipart 100 KiB, stream mode, synchronous to a real processor',
        request: { url: `http://127.0.0.1:${stream.port}/protect`, method: 'POST', headers: { 'content-type': multipart.contentType }, bodyBase64: multipart.body.toString('base64') },
        server: stream.service,
      },
      {
        name: 'bare',
        description: 'bare Express: POST /protect answers 202 (same JSON body as submit)',
        request: { url: `http://127.0.0.1:${bare.port}/protect`, method: 'POST', headers: jsonHeaders, bodyBase64: json(submitBody) },
        server: bare.service,
      },
      {
        name: 'bare-prototypes',
        description: "the same bare Express app served as the router serves its own (createExpressServer: requests born with the app's prototypes); max rate only",
        request: { url: `http://127.0.0.1:${barePrototypes.port}/protect`, method: 'POST', headers: jsonHeaders, bodyBase64: json(submitBody) },
        server: barePrototypes.service,
        maxOnly: true,
      },
    ];
    const paced = targets.filter((t) => !t.maxOnly);

    const samples: ApiSample[] = [];
    const once = async (t: Target, method: LoadMethod, seconds: number, rate: number | undefined, where: Pick<ApiSample, 'phase' | 'round' | 'position'>): Promise<ApiSample> => {
      o.check();
      for (const s of services) if (!fs.existsSync(`/proc/${s.pid}`)) throw new Error(`${s.label} (pid ${s.pid}) died: ${s.logLines.slice(-10).join('\n')}`);
      let before: { server?: number; processor?: number; store?: number; redis?: number; machine: { busy: number; total: number } } | undefined;
      const result = await generator.run(
        { kind: method === 'light' || method === 'same-rate' ? 'paced' : method, request: t.request, connections: o.connections, durationSec: seconds, rate, warmupSec: o.pacerWarmupSeconds },
        () => {
          before = { server: safeTicks(t.server.pid), processor: safeTicks(processor.service.pid), store: safeTicks(store.service.pid), redis: safeTicks(redisPid), machine: machineTicks() };
        },
      );
      const machine = machineTicks();
      const pct = (pid: number | undefined, was: number | undefined): number | undefined => {
        const now = safeTicks(pid);
        return now === undefined || was === undefined ? undefined : ticksToPercent(now - was, result.durationSec);
      };
      const cpu: CpuDuringRun = {
        serverPercent: pct(t.server.pid, before?.server) ?? Number.NaN,
        generatorPercent: (result.generatorCpuMs / (result.durationSec * 1000)) * 100,
        processorPercent: pct(processor.service.pid, before?.processor),
        storePercent: pct(store.service.pid, before?.store),
        redisPercent: pct(redisPid, before?.redis),
        machineBusyPercent: before ? ((machine.busy - before.machine.busy) / Math.max(1, machine.total - before.machine.total)) * 100 : Number.NaN,
      };
      if (result.ok2xx === 0) throw new Error(`${t.name} (${method}): no 2xx answer; status codes ${JSON.stringify(result.statusCodes)}, errors ${result.errors}`);
      const sample: ApiSample = { ...where, target: t.name, method, result, cpu, loadavg1: os.loadavg()[0], at: new Date().toISOString() };
      samples.push(sample);
      log(
        `api ${where.phase} ${where.round} ${t.name} ${method}${rate ? ` @${rate.toFixed(0)}/s` : ''}: ${result.rate.toFixed(0)} req/s, p50 ${result.latency.p50.toFixed(2)} ms, p99 ${result.latency.p99.toFixed(2)} ms, non-2xx ${result.non2xx}, errors ${result.errors}; CPU % server ${cpu.serverPercent.toFixed(0)} gen ${cpu.generatorPercent.toFixed(0)} proc ${cpu.processorPercent?.toFixed(0)} store ${cpu.storePercent?.toFixed(0)} redis ${cpu.redisPercent?.toFixed(0)} machine ${cpu.machineBusyPercent.toFixed(0)}`,
      );
      return sample;
    };

    if (o.warmupSeconds > 0) for (const [i, t] of targets.entries()) await once(t, 'max', o.warmupSeconds, undefined, { phase: 'warmup', round: 0, position: i });
    for (let round = 1; round <= o.runs; round++) {
      for (const [i, t] of roundOrder(targets, round - 1).entries()) await once(t, 'max', o.maxSeconds, undefined, { phase: 'measured', round, position: i });
    }
    const measured = (name: TargetName, method: LoadMethod) => samples.filter((s) => s.phase === 'measured' && s.target === name && s.method === method);
    const half = new Map(targets.map((t) => [t.name, Math.max(1, Math.round(median(measured(t.name, 'max').map((s) => s.result.rate)) / 2))]));
    const bareTarget = targets.find((t) => t.name === 'bare')!;
    const cells: { t: Target; method: LoadMethod; rate: number }[] = [
      ...paced.flatMap((t) => (['rate', 'paced'] as const).map((method) => ({ t, method, rate: half.get(t.name)! }))),
      { t: bareTarget, method: 'same-rate', rate: half.get('submit')! },
    ];
    for (let round = 1; round <= o.runs; round++) {
      for (const [i, c] of roundOrder(cells, round - 1).entries()) await once(c.t, c.method, o.latencySeconds, c.rate, { phase: 'measured', round, position: i });
    }
    for (let round = 1; round <= o.runs; round++) {
      for (const [i, t] of roundOrder(paced, round - 1).entries()) await once(t, 'light', o.latencySeconds, LIGHT_RATE, { phase: 'measured', round, position: i });
    }

    const summary = targets.map((t): ApiTargetSummary => {
      const max = measured(t.name, 'max');
      const rate = measured(t.name, 'rate');
      const paced = measured(t.name, 'paced');
      const light = measured(t.name, 'light');
      const all = samples.filter((s) => s.target === t.name && s.phase === 'measured');
      return {
        target: t.name,
        description: t.description,
        maxRate: summarize(max.map((s) => s.result.rate)),
        halfRate: half.get(t.name)!,
        rate: { achieved: summarize(rate.map((s) => s.result.rate)), p50: summarize(rate.map((s) => s.result.latency.p50)), p99: summarize(rate.map((s) => s.result.latency.p99)) },
        paced: {
          achieved: summarize(paced.map((s) => s.result.rate)),
          p50: summarize(paced.map((s) => s.result.latency.p50)),
          p99: summarize(paced.map((s) => s.result.latency.p99)),
          p99FromSend: summarize(paced.map((s) => s.result.latencyFromSend?.p99 ?? Number.NaN)),
        },
        light: { p50: summarize(light.map((s) => s.result.latency.p50)), p99: summarize(light.map((s) => s.result.latency.p99)) },
        non2xx: all.reduce((n, s) => n + s.result.non2xx, 0),
        errors: all.reduce((n, s) => n + s.result.errors, 0),
        serverCpuPercentAtMax: summarize(max.map((s) => s.cpu.serverPercent)),
        generatorCpuPercentAtMax: summarize(max.map((s) => s.cpu.generatorPercent)),
      };
    });
    const vsRound = (baseline: TargetName) => {
      const byRound = new Map(measured(baseline, 'max').map((s) => [s.round, s.result.rate]));
      return summarize(measured('submit', 'max').map((s) => s.result.rate / (byRound.get(s.round) ?? Number.NaN)));
    };
    const sameRate = measured('bare', 'same-rate');
    const submitP99ByRound = new Map(measured('submit', 'paced').map((s) => [s.round, s.result.latency.p99]));
    const bareAtSubmitRate = {
      rate: half.get('submit')!,
      p50: summarize(sameRate.map((s) => s.result.latency.p50)),
      p99: summarize(sameRate.map((s) => s.result.latency.p99)),
      submitP99Ratio: summarize(sameRate.map((s) => (submitP99ByRound.get(s.round) ?? Number.NaN) / s.result.latency.p99)),
    };
    return {
      connections: o.connections,
      maxSeconds: o.maxSeconds,
      latencySeconds: o.latencySeconds,
      runs: o.runs,
      setup: {
        uploadId: grant.upload_id,
        jobId: first.job_id,
        redisPrefixes: prefixes,
        redisVersion: info.version,
        streamBodyBytes: multipart.body.length,
        jsonBodyBytes: Buffer.byteLength(JSON.stringify(submitBody)),
      },
      samples,
      summary,
      submitVsBare: vsRound('bare'),
      submitVsBarePrototypes: vsRound('bare-prototypes'),
      keyedVsOpen: {
        maxRate: pairedRatio(measured('submit-keyed', 'max'), measured('submit', 'max'), (s) => s.result.rate),
        pacedP99: pairedRatio(measured('submit-keyed', 'paced'), measured('submit', 'paced'), (s) => s.result.latency.p99),
        keyedGrants: grants,
      },
      bareAtSubmitRate,
      redisCleanup: [],
    };
  } finally {
    await generator.close();
    // The routers are stopped by the caller; the keys go now and again after they stopped.
    redis.disconnect();
  }
}

/** Deletes the run's Redis keys (after the routers have stopped) and counts what is left. */
export async function cleanRedis(redisUrl: string, prefixes: readonly string[]): Promise<ApiSection['redisCleanup']> {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 2 });
  try {
    const out: ApiSection['redisCleanup'] = [];
    for (const prefix of prefixes) {
      const deleted = await deletePrefix(redis, prefix);
      out.push({ prefix, deleted, remaining: await countPrefix(redis, prefix) });
    }
    return out;
  } finally {
    redis.disconnect();
  }
}

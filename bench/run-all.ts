/**
 * `make bench` (and `make bench-smoke` with --smoke): every benchmark of the transfer layer,
 * on this machine, against the project's own stack, which this script starts and stops:
 *   serialization  JobSpec protobuf vs the client's JSON (in-process)
 *   transfer       floor / legacy / stream / s3 / direct / tus at 1, 10, 50 MiB
 *   bound          s3-mode router memory at 20 vs 200 MiB
 *   concurrency    16 simultaneous 10 MiB uploads per mode
 *   resume         a 50 MiB upload cut half-way: resumed through tus vs started over (stream)
 *   api            max rate and latency at half of it (autocannon + open-loop pacer), Redis-backed
 *   net            the transfer table over 100 Mbit/s links between network namespaces
 *   photo          one processor on a ~50 MB photograph (JPEG, 8000x6000) at full resolution
 *   hosts          throughput with one router host vs two and one processor host vs two (network namespaces)
 * Full runs write bench/results/latest.json and docs/benchmarks.md; --smoke writes
 * bench/results/smoke.json only; a run of some sections only writes bench/results/partial.json.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { loadConfig as loadRouterConfig } from '../router/src/config';
import { cleanRedis, runApi } from './lib/api';
import { runConcurrency } from './lib/concurrency';
import { renderDocs } from './lib/docs';
import { MIB, writeTestFiles } from './lib/files';
import { codeState, machineInfo } from './lib/machine';
import { runHosts } from './lib/hosts-run';
import { runNet } from './lib/net-run';
import { runPhoto } from './lib/photo-run';
import { runResume } from './lib/resume-run';
import { teardownAll } from './lib/netns';
import { RunOptions, RunRecord, SECTIONS, Section, loopbackRunsOf } from './lib/record';
import { serverInfo } from './lib/redis-keys';
import { fixed } from './lib/stats';
import { primeFor, roundsBySize, runRounds } from './lib/rounds';
import { RUN_ALL_CLI, runOptions } from './lib/run-args';
import { BenchScript } from './lib/script';
import { commandOf } from './lib/cli';
import { runSerialization } from './lib/serialization';
import { REPO_ROOT, Service } from './lib/stack';
import { LOOPBACK } from './lib/topology';
import { BUCKET, ContenderPlan, startTransferStack, transferPlans } from './lib/transfer-stack';
import { nginxUnavailable } from './lib/nginx';
import { RgwStore, rgwUnavailable, startRgw } from '../scripts/rgw/rgw';
import { concurrencyRows, transferRows } from './lib/transfer-summary';
import { tusVerdicts } from './lib/verdicts';

const script = new BenchScript('bench', teardownAll);
const { log, check } = script;

async function stopAll(services: Service[]): Promise<void> {
  await Promise.all(services.map((s) => s.stop()));
}

/**
 * The concurrency section's contenders: the modes, and the one-hop floor, nginx (where
 * installed) and the Node pass-through, which show what the clients and the processor alone,
 * and the cheapest hop of each kind, cost on this machine.
 */
const CONCURRENCY_LABELS = ['floor', 'nginx', 'passthrough', 'legacy', 'stream', 's3', 'direct', 'default'];

/** The resume section's routers: tus resumes there; the restart goes to `stream`, a path that cannot resume. */
const RESUME_TUS = 'tus';
const RESUME_RESTART = 'stream';

/** Transfer, bound, concurrency and resume share one stack (store, processor, one router per mode). */
async function runTransferSections(record: RunRecord, o: RunOptions, dir: string, timed: <T>(s: Section, fn: () => Promise<T>) => Promise<T | undefined>): Promise<void> {
  const want = (s: Section) => o.sections.includes(s);
  if (!want('transfer') && !want('bound') && !want('concurrency') && !want('resume')) return;
  const [small, large] = o.boundSizes;
  const nginxMissing = nginxUnavailable();
  const rgwMissing = want('transfer') ? await rgwUnavailable() : 'not needed';
  if (nginxMissing) log(`no nginx contender: ${nginxMissing}`);
  if (want('transfer') && rgwMissing) log(`no Ceph RGW contenders: ${rgwMissing}`);
  const transferContenders = transferPlans({ nginx: !nginxMissing, rgw: !rgwMissing, passthrough: true });
  const plans: ContenderPlan[] = [
    ...transferContenders.filter((p) => want('transfer') || (want('concurrency') && CONCURRENCY_LABELS.includes(p.label)) || (want('resume') && [RESUME_TUS, RESUME_RESTART].includes(p.label))),
    ...(want('bound')
      ? [
          { label: `s3-${small}`, kind: 's3' as const },
          { label: `s3-${large}`, kind: 's3' as const },
        ]
      : []),
  ];
  const sizes = new Set<number>([
    ...(want('transfer') ? o.sizes : []),
    ...(want('bound') ? o.boundSizes : []),
    ...(want('concurrency') ? [o.concurrency.sizeMiB] : []),
    ...(want('resume') ? [o.resume.sizeMiB] : []),
  ]);
  log(`writing test files (${[...sizes].join(', ')} MiB)`);
  const { files, maxBytes } = writeTestFiles(dir, sizes);
  const services = script.group();
  const prime = primeFor(o.sizes, o.smoke ? 1 : undefined);
  const loopbackRuns = loopbackRunsOf(o);
  let rgw: RgwStore | undefined;
  try {
    if (plans.some((p) => p.store === 'rgw')) {
      log('starting Ceph RGW');
      // Every RGW contender's upload stays in the store (its job fails as undecodable and nothing
      // deletes it), so the in-RAM OSD must hold all of them, priming included, or it fills and
      // writes block (a 50 MiB-only run primed 2 GiB into it and hung).
      const rgwBytes = (o.sizes.reduce((sum, size) => sum + size * MIB, 0) * (loopbackRuns + 1) + prime.jobs * prime.sizeMiB * MIB) * 2;
      rgw = await startRgw(BUCKET, { memstoreBytes: Math.max(2 * 1024 * MIB, Math.ceil(rgwBytes * 1.25)) });
      script.afterServices(() => rgw!.stop());
    }
    const stack = await startTransferStack({ topology: LOOPBACK, plans, tempDir: dir, maxBytes, services, rgwEnv: rgw?.env, log });
    const byLabel = (label: string) => stack.contenders.find((c) => c.label === label)!;
    const memoryMethods = [...new Set([stack.processorMethod, ...stack.contenders.flatMap((c) => (c.routerMethod ? [c.routerMethod] : []))])];
    const serviceInfo = [
      { label: 'processor', pid: stack.processor.service.pid, command: stack.processor.service.command },
      ...(stack.store ? [{ label: 'store', pid: stack.store.service.pid, command: stack.store.service.command }] : []),
      ...stack.contenders.flatMap((c) => (c.router ? [{ label: c.label, pid: c.router.pid, command: c.router.command, env: c.routerEnv }] : [])),
    ];
    await timed('transfer', async () => {
      if (!want('transfer')) return;
      const contenders = transferContenders.map((p) => byLabel(p.label));
      const samples = await roundsBySize(stack, { section: 'transfer', sizes: o.sizes, contenders, runs: loopbackRuns, files, log, check, prime });
      record.transfer = {
        topology: LOOPBACK.name,
        description: LOOPBACK.description,
        memoryMethods,
        services: serviceInfo,
        samples,
        rows: transferRows(samples, 'transfer'),
        primeJobs: prime.jobs,
        primeSizeMiB: prime.sizeMiB,
      };
      for (const r of record.transfer.rows)
        log(`transfer ${r.sizeMiB} MiB ${r.contender}: time to 202 median ${fixed(r.timeMs.median, 1)} ms (${fixed(r.timeMs.min, 1)}–${fixed(r.timeMs.max, 1)}, n = ${r.timeMs.n})`);
      for (const v of tusVerdicts(record)) log(`${v.claim}: ${v.measured}: ${v.outcome}`);
    });
    await timed('bound', async () => {
      if (!want('bound')) return;
      const group = [
        { contender: byLabel(`s3-${small}`), sizeMiB: small },
        { contender: byLabel(`s3-${large}`), sizeMiB: large },
      ];
      const samples = await runRounds(stack, { section: 'bound', groups: [group], runs: o.runs, files, settleTimeoutMs: 300_000, log, check });
      record.bound = { samples, rows: transferRows(samples, 'bound') };
    });
    await timed('concurrency', async () => {
      if (!want('concurrency')) return;
      const contenders = CONCURRENCY_LABELS.filter((label) => stack.contenders.some((c) => c.label === label)).map(byLabel);
      const samples = await runConcurrency(stack, contenders, {
        runs: loopbackRuns,
        uploads: o.concurrency.uploads,
        file: files.get(o.concurrency.sizeMiB)!,
        sizeMiB: o.concurrency.sizeMiB,
        log,
        check,
      });
      record.concurrency = { samples, rows: concurrencyRows(samples) };
    });
    await timed('resume', async () => {
      if (!want('resume')) return;
      const sizeMiB = o.resume.sizeMiB;
      const r = await runResume(stack, { tus: byLabel(RESUME_TUS), restart: byLabel(RESUME_RESTART), file: files.get(sizeMiB)!, sizeMiB, runs: o.runs, settleTimeoutMs: 120_000, log, check });
      record.resume = r;
      const mib = (bytes: number) => `${fixed(bytes / MIB, 2)} MiB`;
      log(`resume ${sizeMiB} MiB cut at ${r.cutBytes} bytes, medians over ${r.runs} runs after the cut:`);
      log(
        `  tus resume (HEAD + PATCH of the rest + POST /protect via ${r.resume.router}): ${fixed(r.resume.timeMs.median, 1)} ms (${fixed(r.resume.timeMs.min, 1)}–${fixed(r.resume.timeMs.max, 1)}), ${mib(r.resume.bytesSent.median)} sent; before the cut (create + PATCH): ${fixed(r.resume.beforeCutMs.median, 1)} ms, ${mib(r.resume.beforeCutBytes.median)}`,
      );
      log(
        `  start over (one multipart POST /protect to ${r.restart.router}): ${fixed(r.restart.timeMs.median, 1)} ms (${fixed(r.restart.timeMs.min, 1)}–${fixed(r.restart.timeMs.max, 1)}), ${mib(r.restart.bytesSent.median)} sent`,
      );
      log(`  resume ÷ start over: time ${fixed(r.timeRatio, 2)}×, bytes ${fixed(r.bytesRatio, 2)}×`);
    });
  } finally {
    log('stopping the transfer stack');
    await stopAll(services);
    await rgw?.stop();
    for (const f of fs.readdirSync(dir)) if (f.startsWith('bench-')) fs.rmSync(path.join(dir, f), { force: true });
    fs.rmSync(path.join(dir, 's3'), { recursive: true, force: true });
    fs.rmSync(path.join(dir, 'processor-work'), { recursive: true, force: true });
  }
}

async function run(o: RunOptions, record: RunRecord): Promise<void> {
  const dir = script.tempDir('artorizer-bench-');
  const timed = async <T>(s: Section, fn: () => Promise<T>): Promise<T | undefined> => {
    if (!o.sections.includes(s)) return undefined;
    const started = performance.now();
    record.sectionCode[s] = codeState();
    log(`section ${s}`);
    try {
      return await fn();
    } catch (err) {
      if (script.interrupted) throw err;
      const message = err instanceof Error ? err.message : String(err);
      record.errors.push({ section: s, message });
      log(`section ${s} failed: ${err instanceof Error ? (err.stack ?? message) : message}`);
      return undefined;
    } finally {
      record.sectionSeconds[s] = (performance.now() - started) / 1000;
    }
  };

  // In-process and CPU-bound: first, while nothing else of the benchmark runs.
  await timed('serialization', async () => {
    record.serialization = runSerialization(o.serialization.reps, o.serialization.targetMs);
  });
  await runTransferSections(record, o, dir, timed);

  await timed('api', async () => {
    const runId = `${Date.now().toString(36)}-${process.pid}`;
    const prefixes = { submit: `bench-${runId}-submit`, stream: `bench-${runId}-stream`, keyed: `bench-${runId}-keyed` };
    const services = script.group();
    // Once, after the routers stop: here at the end of the section, or on Ctrl-C by the script's clean-up.
    let deleting: ReturnType<typeof cleanRedis> | undefined;
    const deleteKeys = () =>
      (deleting ??= cleanRedis(o.api.redisUrl, [prefixes.submit, prefixes.stream, prefixes.keyed]).then((cleanup) => {
        log(`redis: ${cleanup.map((c) => `${c.prefix} ${c.deleted} deleted, ${c.remaining} left`).join('; ')}`);
        return cleanup;
      }));
    script.afterServices(deleteKeys);
    const probe = new Redis(o.api.redisUrl, { maxRetriesPerRequest: 1, lazyConnect: true });
    try {
      await probe.connect();
      record.machine.redisVersion = (await serverInfo(probe)).version;
    } finally {
      probe.disconnect();
    }
    try {
      record.api = await runApi({ ...o.api, runs: o.runs, prefixes, tempDir: dir, services, log, check });
    } finally {
      await stopAll(services);
      const cleanup = await deleteKeys();
      if (record.api) record.api.redisCleanup = cleanup;
    }
  });

  await timed('net', async () => {
    record.net = await runNet({ sizes: o.sizes, runs: o.runs, rateMbit: o.net.rateMbit, tempDir: dir, services: script.group(), log, check });
    if ('skipped' in record.net) log(`constrained links skipped: ${record.net.skipped}`);
  });

  await timed('photo', async () => {
    record.photo = await runPhoto({ ...o.photo, runs: o.runs, tempDir: dir, services: script.group(), log, check });
  });

  await timed('hosts', async () => {
    record.hosts = await runHosts({ ...o.hosts, runs: o.runs, warmup: !o.smoke, tempDir: dir, services: script.group(), log, check });
    if ('skipped' in record.hosts) log(`hosts skipped: ${record.hosts.skipped}`);
  });
}

async function runAll(o: RunOptions): Promise<void> {
  const started = performance.now();
  const record: RunRecord = {
    benchmark: 'run-all',
    command: commandOf(RUN_ALL_CLI),
    smoke: o.smoke,
    startedAt: new Date().toISOString(),
    machine: await machineInfo(),
    options: o,
    sectionSeconds: {},
    sectionCode: {},
    routerDefaults: routerDefaults(),
    errors: [],
    serviceLogs: [],
  };
  try {
    await run(o, record);
  } catch (err) {
    if (script.interrupted) throw err;
    record.errors.push({ section: 'transfer', message: err instanceof Error ? err.message : String(err) });
  }
  record.finishedAt = new Date().toISOString();
  record.durationSec = (performance.now() - started) / 1000;
  record.machine.loadavgAtEnd = os.loadavg();
  record.serviceLogs = script.allServices().map((s) => ({ label: `${s.label} (pid ${s.pid})`, lines: s.logLines }));

  const resultsDir = path.join(__dirname, 'results');
  fs.mkdirSync(resultsDir, { recursive: true });
  const complete = SECTIONS.every((s) => o.sections.includes(s));
  // latest.json is the committed record behind docs/benchmarks.md: only a run that writes the report replaces it
  const reported = !o.smoke && complete && record.errors.length === 0;
  const name = o.smoke ? 'smoke.json' : reported ? 'latest.json' : 'partial.json';
  const file = path.join(resultsDir, name);
  fs.writeFileSync(file, JSON.stringify(record, null, 1) + '\n');
  log(`wrote ${path.relative(REPO_ROOT, file)} (${fixedSeconds(record.durationSec)})`);
  if (record.errors.length > 0) {
    for (const e of record.errors) log(`FAILED ${e.section}: ${e.message}`);
    throw new Error(`${record.errors.length} section(s) failed`);
  }
  const docs = path.join(REPO_ROOT, 'docs', 'benchmarks.md');
  if (reported) {
    fs.mkdirSync(path.dirname(docs), { recursive: true });
    fs.writeFileSync(docs, renderDocs(record));
    log(`wrote ${path.relative(REPO_ROOT, docs)}`);
  } else if (o.updateLatest) {
    const latestFile = path.join(resultsDir, 'latest.json');
    const latest = mergeSections(JSON.parse(fs.readFileSync(latestFile, 'utf8')) as RunRecord, record);
    fs.writeFileSync(latestFile, JSON.stringify(latest, null, 1) + '\n');
    fs.writeFileSync(docs, renderDocs(latest));
    log(`put ${o.sections.join(', ')} into ${path.relative(REPO_ROOT, latestFile)} (run of ${latest.startedAt}) and wrote ${path.relative(REPO_ROOT, docs)}`);
  } else if (!o.smoke) {
    log('not all sections ran: docs/benchmarks.md and bench/results/latest.json left as they were');
  }
}

/** `latest` with the sections `partial` ran in place of its own, each marked with the run it came from. */
function mergeSections(latest: RunRecord, partial: RunRecord): RunRecord {
  const merged: RunRecord = {
    ...latest,
    sectionRuns: { ...latest.sectionRuns },
    serviceLogs: [...latest.serviceLogs, ...partial.serviceLogs.map((l) => ({ ...l, label: `${l.label}, run of ${partial.startedAt}` }))],
  };
  const copy = merged as unknown as Record<Section, unknown>;
  for (const s of partial.options.sections) {
    copy[s] = (partial as unknown as Record<Section, unknown>)[s];
    merged.sectionSeconds = { ...merged.sectionSeconds, [s]: partial.sectionSeconds[s] };
    merged.sectionCode = { ...merged.sectionCode, [s]: partial.sectionCode[s] };
    merged.sectionRuns![s] = {
      command: partial.command,
      startedAt: partial.startedAt,
      durationSec: partial.durationSec ?? Number.NaN,
      loadavgAtStart: partial.machine.loadavgAtStart,
      loadavgAtEnd: partial.machine.loadavgAtEnd ?? [],
    };
  }
  return merged;
}

function routerDefaults(): RunRecord['routerDefaults'] {
  const plain = loadRouterConfig({});
  const store = loadRouterConfig({ S3_ENDPOINT: 'http://127.0.0.1:1' }).store;
  return { chunkBytes: plain.chunkBytes, s3PartBytes: store?.partBytes ?? Number.NaN, s3QueueSize: store?.queueSize ?? Number.NaN, autoS3ThresholdBytes: plain.autoS3ThresholdBytes ?? null };
}

function fixedSeconds(s: number): string {
  return `${s.toFixed(1)} s`;
}

script.main(RUN_ALL_CLI, runOptions, runAll);

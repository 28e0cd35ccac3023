/**
 * S3 part-size × queue-size sweep of the router's `s3` transfer mode (TRANSFER_MODE=s3: the
 * router streams the multipart upload into an S3 multipart upload of S3_PART_SIZE bytes per
 * part, S3_QUEUE_SIZE parts in flight, then submits by reference). Full sweep:
 *
 *   node_modules/.bin/tsx bench/tools/s3-sweep.ts --sizes 10,50 --runs 5 \
 *     --part-sizes 5242880,8388608,16777216 --queue-sizes 1,2,4 [--out s3-sweep.json]
 *
 * (these are the defaults: `node_modules/.bin/tsx bench/tools/s3-sweep.ts` runs the same).
 * One store (s3rver), one processor and one s3-mode router per part size × queue size, all
 * started once (bench/lib/transfer-stack.ts); the routers' environments differ only in
 * S3_PART_SIZE / S3_QUEUE_SIZE. One warm-up upload per contender and size, then --runs rounds
 * whose contender order rotates (bench/lib/rounds.ts, roundOrder of bench/lib/stats.ts). Per
 * upload: curl's time to the 202 and the router's peak RSS growth during it
 * (bench/lib/job-sample.ts); after each 202 the benchmark waits, outside the timing, until the
 * processor has ended the job. Prints one table per size with ratios to the router's default
 * (8 MiB × 2); --out writes every upload and the summary as JSON.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig as loadRouterConfig } from '../../router/src/config';
import { MIB, writeTestFiles } from '../lib/files';
import { JobSample } from '../lib/job-sample';
import { machineInfo } from '../lib/machine';
import { roundsBySize } from '../lib/rounds';
import { FlagValues, commandLine, commandOf, count, numberList, roundsFlag, sizesFlag } from '../lib/cli';
import { BenchScript } from '../lib/script';
import { REPO_ROOT } from '../lib/stack';
import { fixed, ratio, spread } from '../lib/stats';
import { LOOPBACK } from '../lib/topology';
import { ContenderPlan, startTransferStack } from '../lib/transfer-stack';
import { TransferRow, transferRows } from '../lib/transfer-summary';

const S3_SWEEP_CLI = commandLine({
  script: 'bench/tools/s3-sweep.ts',
  about: 'Time to the 202 and router peak RSS growth of s3-mode routers, one per S3_PART_SIZE × S3_QUEUE_SIZE.',
  flags: {
    sizes: sizesFlag('10,50'),
    runs: roundsFlag(5),
    'part-sizes': { kind: 'value', sample: '5242880,8388608,16777216', help: 'S3_PART_SIZE values in bytes (router minimum 5242880)' },
    'queue-sizes': { kind: 'value', sample: '1,2,4', help: 'S3_QUEUE_SIZE values (router bounds 1..16)' },
    out: { kind: 'value', sample: 'file.json', help: 'write every upload and the summary as JSON' },
  },
});

const SECTION = 's3-sweep';

interface Options {
  sizes: number[];
  runs: number;
  partSizes: number[];
  queueSizes: number[];
  out?: string;
}

interface SweepPlan extends ContenderPlan {
  partBytes: number;
  queueSize: number;
}

interface SummaryRow extends TransferRow {
  partBytes: number;
  queueSize: number;
  isDefault: boolean;
  /** Median time to the 202 ÷ the default contender's, at the same size. */
  timeVsDefault: number;
  /** Median router peak RSS growth ÷ the default contender's, at the same size. */
  growthVsDefault: number;
}

const script = new BenchScript('s3-sweep');
const { services, log, check } = script;

/** Enough environment for the router's config to read its store settings (never connected to). */
const s3Probe = { S3_ENDPOINT: 'http://127.0.0.1:1', TRANSFER_MODE: 's3' };

/** numberList, refusing an empty list and repeated values (each is one contender). */
function numbers(raw: string, name: string, valid: (n: number) => boolean): number[] {
  const values = numberList(raw, name, valid);
  if (values.length === 0) throw new Error(`--${name}: at least one value`);
  if (new Set(values).size !== values.length) throw new Error(`--${name}: repeated value`);
  return values;
}

function sweepOptions(flags: FlagValues<typeof S3_SWEEP_CLI.flags>): Options {
  const integer = (n: number) => Number.isInteger(n) && n >= 1;
  const options: Options = {
    sizes: numbers(flags.sizes ?? '10,50', 'sizes', (n) => n > 0 && n <= 1024),
    runs: count(flags.runs, 5, 'runs'),
    partSizes: numbers(flags['part-sizes'] ?? '5242880,8388608,16777216', 'part-sizes', integer),
    queueSizes: numbers(flags['queue-sizes'] ?? '1,2,4', 'queue-sizes', integer),
    out: flags.out,
  };
  // The router's own bounds (S3_PART_SIZE >= 5 MiB, S3_QUEUE_SIZE 1..16), before anything starts.
  for (const partBytes of options.partSizes) {
    for (const queueSize of options.queueSizes) loadRouterConfig({ ...s3Probe, S3_PART_SIZE: String(partBytes), S3_QUEUE_SIZE: String(queueSize) });
  }
  return options;
}

function routerDefaults(): { partBytes: number; queueSize: number } {
  const store = loadRouterConfig(s3Probe).store;
  if (!store) throw new Error('router config has no store settings with S3_ENDPOINT set');
  return { partBytes: store.partBytes, queueSize: store.queueSize };
}

/** 5m, 8m, 16m; bytes when not a whole MiB. */
function bytesLabel(bytes: number): string {
  return bytes % MIB === 0 ? `${bytes / MIB}m` : String(bytes);
}

function planFor(partBytes: number, queueSize: number): SweepPlan {
  return {
    label: `s3-${bytesLabel(partBytes)}-q${queueSize}`,
    kind: 's3',
    env: { S3_PART_SIZE: String(partBytes), S3_QUEUE_SIZE: String(queueSize) },
    partBytes,
    queueSize,
  };
}

function summary(samples: readonly JobSample[], plans: readonly SweepPlan[], defaultLabel: string): SummaryRow[] {
  // transferRows lists contenders in the order they first ran; the table follows the grid instead.
  const index = (label: string) => plans.findIndex((p) => p.label === label);
  const rows = transferRows(samples, SECTION).sort((a, b) => a.sizeMiB - b.sizeMiB || index(a.contender) - index(b.contender));
  return rows.map((row) => {
    const plan = plans.find((p) => p.label === row.contender)!;
    const base = rows.find((r) => r.sizeMiB === row.sizeMiB && r.contender === defaultLabel);
    return {
      ...row,
      partBytes: plan.partBytes,
      queueSize: plan.queueSize,
      isDefault: row.contender === defaultLabel,
      timeVsDefault: base ? row.timeMs.median / base.timeMs.median : Number.NaN,
      growthVsDefault: base ? row.routerGrowthMiB.median / base.routerGrowthMiB.median : Number.NaN,
    };
  });
}

function tables(rows: readonly SummaryRow[], sizes: readonly number[], runs: number, defaultLabel: string | undefined): string {
  const lines: string[] = [];
  for (const size of sizes) {
    lines.push('', `### ${size} MiB, n = ${runs}`, '');
    lines.push('| contender | part size | queue | time to 202 ms, median (min–max) | time ÷ default | router peak RSS growth MiB, median | growth ÷ default | router peak above rest MiB, median |');
    lines.push('|---|---|---|---|---|---|---|---|');
    for (const r of rows.filter((x) => x.sizeMiB === size)) {
      const base = defaultLabel ? rows.find((x) => x.sizeMiB === size && x.contender === defaultLabel) : undefined;
      lines.push(
        `| ${r.contender}${r.isDefault ? ' (default)' : ''} | ${bytesLabel(r.partBytes)} | ${r.queueSize} | ${spread(r.timeMs, 1)} | ${base ? ratio(r.timeMs.median, base.timeMs.median) : 'n/a'} | ${fixed(r.routerGrowthMiB.median, 1)} | ${base ? ratio(r.routerGrowthMiB.median, base.routerGrowthMiB.median) : 'n/a'} | ${fixed(r.routerAboveRestMiB.median, 1)} |`,
      );
    }
  }
  return lines.join('\n');
}

async function run(options: Options, command: string): Promise<void> {
  const meta = await machineInfo();
  const defaults = routerDefaults();
  const plans = options.partSizes.flatMap((partBytes) => options.queueSizes.map((queueSize) => planFor(partBytes, queueSize)));
  const defaultPlan = plans.find((p) => p.partBytes === defaults.partBytes && p.queueSize === defaults.queueSize);
  if (!defaultPlan) log(`the router default (${bytesLabel(defaults.partBytes)} × ${defaults.queueSize}) is not in the grid: no ratios`);

  const tempDir = script.tempDir('artorizer-s3-sweep-');
  log(`writing test files (${options.sizes.join(', ')} MiB) to ${tempDir}`);
  const { files, maxBytes } = writeTestFiles(tempDir, options.sizes);

  log(`starting store, processor and ${plans.length} s3-mode routers`);
  const stack = await startTransferStack({ topology: LOOPBACK, plans, tempDir, maxBytes, services, log });
  const methods = [...new Set(stack.contenders.flatMap((c) => (c.routerMethod ? [c.routerMethod] : [])))];
  const started = performance.now();
  const samples = await roundsBySize(stack, { section: SECTION, sizes: options.sizes, contenders: stack.contenders, runs: options.runs, files, log, check });
  const seconds = (performance.now() - started) / 1000;
  const rows = summary(samples, plans, defaultPlan?.label ?? '');
  meta.loadavgAtEnd = os.loadavg();

  const jobOutcomes = new Map<string, number>();
  for (const s of samples) {
    const key = s.job ? `${s.job.status}${s.job.reason ? ` (${s.job.reason})` : ''}` : 'not waited for';
    jobOutcomes.set(key, (jobOutcomes.get(key) ?? 0) + 1);
  }
  const loads = (l: number[]) => l.map((x) => x.toFixed(2)).join(' ');
  const notes = [
    `Time = curl %{time_total} of one multipart upload (metadata fields first) until the 202; one curl process per upload.`,
    `Peak RSS growth = the router's peak resident memory during the upload minus its RSS just before (memory via ${methods.join(', ')}). Memory the router freed earlier but kept is reused without growing RSS, so with sizes interleaved a smaller upload after a larger one often shows little growth; "peak above rest" = peak minus the router's lowest resting RSS (counts memory held from earlier uploads).`,
    `Default = the router's own S3_PART_SIZE × S3_QUEUE_SIZE (${defaults.partBytes} bytes × ${defaults.queueSize}).`,
    `Job outcomes (the test files are not decodable images, so jobs fail after the processor fetched them): ${[...jobOutcomes].map(([k, n]) => `${n} ${k}`).join(', ')}.`,
    `Log lines at warn or above: ${services.map((s) => `${s.label} ${s.logLines.length}`).join(', ')}.`,
  ];
  const out = [
    `## S3 part size × queue size sweep (${meta.date})`,
    '',
    `\`${command}\``,
    '',
    `${meta.cpuModel}, ${meta.cpuCount} cores, Node ${meta.node}, ${meta.curl}; git ${meta.gitCommit.slice(0, 12)}${meta.gitDirty ? ' (dirty)' : ''}; load average at start ${loads(meta.loadavgAtStart)}, at end ${loads(meta.loadavgAtEnd)}; rounds took ${seconds.toFixed(1)} s`,
    tables(rows, options.sizes, options.runs, defaultPlan?.label),
    '',
    'Notes:',
    '',
    ...notes.map((n) => `- ${n}`),
  ];
  process.stdout.write(out.join('\n') + '\n');

  if (options.out) {
    const record = {
      benchmark: SECTION,
      command,
      machine: meta,
      options,
      routerDefaults: defaults,
      defaultContender: defaultPlan?.label,
      services: {
        store: stack.store ? { pid: stack.store.service.pid, command: stack.store.service.command } : undefined,
        processor: { pid: stack.processor.service.pid, command: stack.processor.service.command },
      },
      contenders: stack.contenders.map((c) => ({
        label: c.label,
        partBytes: plans.find((p) => p.label === c.label)!.partBytes,
        queueSize: plans.find((p) => p.label === c.label)!.queueSize,
        pid: c.router?.pid,
        env: c.routerEnv,
        memoryMethod: c.routerMethod,
      })),
      notes,
      summary: rows,
      rows: samples,
      serviceLogLines: services.map((s) => ({ label: s.label, lines: s.logLines })),
    };
    const file = path.resolve(options.out);
    fs.writeFileSync(file, JSON.stringify(record, null, 1) + '\n');
    log(`wrote ${path.relative(REPO_ROOT, file)}`);
  }
}

script.main(S3_SWEEP_CLI, sweepOptions, (options) => run(options, commandOf(S3_SWEEP_CLI)));

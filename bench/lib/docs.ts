import path from 'node:path';
import { ApiSection, LIGHT_RATE } from './api';
import { defaultPathVerdicts } from './default-path';
import { MIB_BYTES, apiTable, autoChoiceTable, boundTable, concurrencyTable, hostsTables, photoTable, ratio, serializationTables, times, transferTable, verdictTable } from './docs-tables';
import { describeCode, machineLine } from './machine';
import { RunRecord, loopbackRunsOf } from './record';
import { Summary, fixed, spread } from './stats';
import { Template } from './template';
import { designVerdicts, photoVerdicts, targetVerdicts, tusVerdicts } from './verdicts';

/**
 * docs/benchmarks.md, written from one run's record: every figure below is computed from
 * `record`, none is typed in. The prose is in bench/benchmarks.md.tmpl, the tables in
 * docs-tables.ts; this module picks the blocks a record calls for and fills them.
 */

const TEMPLATE_FILE = path.join(__dirname, '..', 'benchmarks.md.tmpl');

/** Transfer modes in the order section 1 describes them (each has a `mode-<label>` block). */
const MODE_ORDER = ['floor', 'legacy', 'stream', 's3', 'direct', 'tus', 'default', 'nginx', 'passthrough', 's3-rgw', 'direct-rgw'];

/** A table's lines as one placeholder value: the template puts the blank line after it. */
function table(lines: readonly string[]): string {
  return (lines.at(-1) === '' ? lines.slice(0, -1) : lines).join('\n');
}

const loads = (l: readonly number[]) => l.map((x) => x.toFixed(2)).join(' ');
const minutes = (sec: number) => fixed(sec / 60, 1);
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

export function renderDocs(record: RunRecord): string {
  const t = Template.read(TEMPLATE_FILE);
  return [
    ...head(t, record),
    ...transferSection(t, record),
    ...boundSection(t, record),
    ...concurrencySection(t, record),
    ...serializationSection(t, record),
    ...apiSection(t, record),
    ...netSection(t, record),
    ...defaultPathSection(t, record),
    ...photoSection(t, record),
    ...resumeSection(t, record),
    ...hostsSection(t, record),
    t.fill('design', { verdicts: table(verdictTable(designVerdicts(record), 'estimate')) }),
    t.fill('notes', { notes: notes(t, record).join('\n') }),
  ].join('\n');
}

/** The title, the runs the record comes from, the machine and how the figures are made. */
function head(t: Template, record: RunRecord): string[] {
  const m = record.machine;
  const codes = Object.entries(record.sectionCode);
  const first = codes[0]?.[1];
  const same = codes.every(([, c]) => c && first && c.commit === first.commit && c.diffSha256 === first.diffSha256);
  const code = !first
    ? `commit ${m.gitCommit.slice(0, 12)}`
    : same
      ? describeCode(first)
      : t.fill('code-changed', { sections: codes.map(([section, c]) => `${section}: ${c ? describeCode(c) : '?'}`).join('; ') });
  return [
    t.fill('head', { command: record.command, startedAt: record.startedAt, minutes: minutes(record.durationSec ?? Number.NaN) }),
    ...Object.entries(record.sectionRuns ?? {}).map(([section, r]) =>
      t.fill('section-run', { section, command: r.command, startedAt: r.startedAt, minutes: minutes(r.durationSec), loadStart: loads(r.loadavgAtStart), loadEnd: loads(r.loadavgAtEnd) }),
    ),
    t.fill('machine', {
      machine: machineLine(m),
      loadStart: loads(m.loadavgAtStart),
      loadEnd: loads(m.loadavgAtEnd ?? []),
      redis: m.redisVersion ?? 'not used',
      code,
      nodeFlags: nodeFlagsOf(record),
      sections: Object.entries(record.sectionSeconds)
        .map(([k, v]) => `${k} ${fixed(v ?? Number.NaN, 0)} s`)
        .join(', '),
    }),
    t.fill('how', { redisUrl: record.options.api.redisUrl, runs: record.options.runs, loopbackRuns: loopbackRunsOf(record.options) }),
  ];
}

/** The flags between node and its script in the processor's command line (scripts/node-flags when the run was made). */
function nodeFlagsOf(record: RunRecord): string {
  const command = record.transfer?.services.find((s) => s.label === 'processor')?.command;
  if (!command) return 'not recorded';
  const words = command.split(' ');
  const script = words.indexOf('--import');
  if (script < 0) return 'not recorded';
  const flags = words.slice(1, script);
  return flags.length ? `\`${flags.join(' ')}\` (scripts/node-flags, as \`make up\` runs them)` : 'none';
}

function transferSection(t: Template, record: RunRecord): string[] {
  if (!record.transfer) return [];
  const d = record.routerDefaults;
  const values: Record<string, Record<string, number>> = { stream: { chunkBytes: d.chunkBytes }, s3: { partBytes: d.s3PartBytes, queueSize: d.s3QueueSize } };
  const present = new Set(record.transfer.rows.map((r) => r.contender));
  const modes = MODE_ORDER.filter((mode) => present.has(mode)).map((mode) => t.fill(`mode-${mode}`, values[mode]));
  const { primeJobs, primeSizeMiB } = record.transfer;
  const primed = primeJobs ? t.fill('transfer-primed', { primeJobs, primeSizeMiB: primeSizeMiB ?? Number.NaN }) : '';
  return [t.fill('transfer', { description: record.transfer.description, modes: modes.join('\n'), primed, tables: table(transferTable(record.transfer.rows, false)) })];
}

function boundSection(t: Template, record: RunRecord): string[] {
  if (!record.bound) return [];
  const [small, large] = record.options.boundSizes;
  return [
    t.fill('bound', {
      small,
      large,
      partBytes: record.routerDefaults.s3PartBytes,
      queueSize: record.routerDefaults.s3QueueSize,
      table: table(boundTable(record.bound.rows)),
      verdicts: table(
        verdictTable(
          targetVerdicts(record).filter((v) => v.claim.startsWith('s3 mode')),
          'project target',
        ),
      ),
    }),
  ];
}

function concurrencySection(t: Template, record: RunRecord): string[] {
  if (!record.concurrency) return [];
  const c = record.options.concurrency;
  return [t.fill('concurrency', { uploads: c.uploads, sizeMiB: c.sizeMiB, table: table(concurrencyTable(record.concurrency.rows)) })];
}

function serializationSection(t: Template, record: RunRecord): string[] {
  const s = record.serialization;
  if (!s) return [];
  const tables = serializationTables(s);
  return [t.fill('serialization', { reps: s.reps, targetMs: s.targetMsPerRep, fullTable: table(tables.full), omitted: s.plainOmits.join(' and '), plainTable: table(tables.plain) })];
}

/** Median of the finite values, the upper one of an even count; NaN when there are none. */
function upperMedian(xs: readonly (number | undefined)[]): number {
  const v = xs.filter((n): n is number => n !== undefined && Number.isFinite(n)).sort((p, q) => p - q);
  return v.length ? v[Math.floor(v.length / 2)] : Number.NaN;
}

/** CPU of router, store, Redis and processor at max rate: medians, % of one core. */
function cpuOfOthers(a: ApiSection): Record<string, string> {
  const at = (target: string) => a.samples.filter((s) => s.phase === 'measured' && s.method === 'max' && s.target === target);
  const submit = at('submit');
  const stream = at('stream');
  return {
    submitRouter: fixed(upperMedian(submit.map((s) => s.cpu.serverPercent)), 0),
    submitStore: fixed(upperMedian(submit.map((s) => s.cpu.storePercent)), 0),
    submitRedis: fixed(upperMedian(submit.map((s) => s.cpu.redisPercent)), 0),
    submitMachine: fixed(upperMedian(submit.map((s) => s.cpu.machineBusyPercent)), 0),
    streamRouter: fixed(upperMedian(stream.map((s) => s.cpu.serverPercent)), 0),
    streamProcessor: fixed(upperMedian(stream.map((s) => s.cpu.processorPercent)), 0),
  };
}

function apiSection(t: Template, record: RunRecord): string[] {
  const a = record.api;
  if (!a) return [];
  return [
    t.fill('api', {
      jsonBodyBytes: a.setup.jsonBodyBytes,
      streamBodyBytes: a.setup.streamBodyBytes,
      connections: a.connections,
      maxSeconds: a.maxSeconds,
      latencySeconds: a.latencySeconds,
      lightRate: LIGHT_RATE,
      table: table(apiTable(a)),
      vsBare: times(a.submitVsBare),
      vsPrototypes: a.submitVsBarePrototypes ? t.fill('api-vs-prototypes', { ratio: times(a.submitVsBarePrototypes) }) : '',
    }),
    ...(a.keyedVsOpen ? [t.fill('api-keyed', { maxRate: times(a.keyedVsOpen.maxRate), pacedP99: times(a.keyedVsOpen.pacedP99), grants: a.keyedVsOpen.keyedGrants })] : []),
    ...(a.bareAtSubmitRate
      ? [
          t.fill('api-bare-at-submit-rate', {
            rate: a.bareAtSubmitRate.rate,
            p50: spread(a.bareAtSubmitRate.p50, 2),
            p99: spread(a.bareAtSubmitRate.p99, 2),
            ratio: times(a.bareAtSubmitRate.submitP99Ratio),
          }),
        ]
      : []),
    t.fill('api-end', {
      ...cpuOfOthers(a),
      cleanup: a.redisCleanup.map((c) => `${c.prefix}: ${c.deleted} deleted, ${c.remaining} left`).join('; '),
      verdicts: table(
        verdictTable(
          targetVerdicts(record).filter((v) => !v.claim.startsWith('s3 mode')),
          'project target',
        ),
      ),
    }),
  ];
}

function netSection(t: Template, record: RunRecord): string[] {
  const n = record.net;
  const body = !n
    ? t.fill('not-run', { section: 'net' })
    : 'skipped' in n
      ? t.fill('not-measured', { reason: n.skipped })
      : t.fill('net', { rateMbit: n.rateMbit, description: n.description, namespaces: n.namespaces.join(', '), runs: n.runs, tables: table(transferTable(n.rows, true)) });
  return [t.fill('net-heading'), body];
}

function defaultPathSection(t: Template, record: RunRecord): string[] {
  return [
    t.fill('default-path'),
    ...(record.transfer ? [t.fill('default-path-auto', { table: table(autoChoiceTable(record.transfer.rows)) })] : []),
    ...verdictTable(defaultPathVerdicts(record), 'project target'),
  ];
}

function photoSection(t: Template, record: RunRecord): string[] {
  const p = record.photo;
  if (!p) return [t.fill('photo-not-run'), t.fill('not-run', { section: 'photo' })];
  const { width, height, bytes } = p.photo;
  const pixels = width * height;
  const worst = Math.max(...p.rows.map((r) => r.aboveRestMiB.median));
  return [
    t.fill('photo', {
      mib: fixed(bytes / MIB_BYTES, 0),
      recipe: p.photo.recipe,
      width,
      height,
      mpx: fixed(pixels / 1e6, 1),
      sizeMiB: fixed(bytes / MIB_BYTES, 1),
      sizeMB: fixed(bytes / 1e6, 1),
      generateSeconds: fixed(p.photo.generateMs / 1000, 1),
      maxMiB: fixed(p.limits.maxImageBytes / MIB_BYTES, 0),
      maxPixels: p.limits.maxImagePixels,
      concurrency: p.limits.concurrency,
      jobs: plural(p.rows[0]?.n ?? 0, 'job'),
      pollMs: p.pollMs,
      table: table(photoTable(p)),
      copyMiB: fixed(p.pixelCopyMiB, 0),
      restingMiB: fixed(p.restingKiB / 1024, 0),
      coldSpec: p.cold.spec,
      coldPeakMiB: fixed(p.cold.peakMiB, 0),
      coldGrowthMiB: fixed(p.cold.growthMiB, 0),
      coldAboveRestMiB: fixed(p.cold.aboveRestMiB, 0),
      scale: fixed(p.limits.maxImagePixels / pixels, 2),
      extrapolatedMiB: fixed((worst * p.limits.maxImagePixels) / pixels, 0),
      verdicts: table(verdictTable(photoVerdicts(record), 'claim (docs/reference-processor.md)')),
    }),
  ];
}

function resumeSection(t: Template, record: RunRecord): string[] {
  const r = record.resume;
  const mib = (s: Summary) => spread({ ...s, median: s.median / MIB_BYTES, min: s.min / MIB_BYTES, max: s.max / MIB_BYTES }, 2);
  const body = !r
    ? t.fill('resume-not-run')
    : t.fill('resume', {
        sizeMiB: fixed(r.fileBytes / MIB_BYTES, 0),
        cutPercent: fixed(r.cutFraction * 100, 0),
        cutBytes: r.cutBytes,
        tusRouter: r.resume.router,
        restartRouter: r.restart.router,
        rounds: plural(r.runs, 'round'),
        resumeMs: spread(r.resume.timeMs, 1),
        resumeMiB: mib(r.resume.bytesSent),
        restartMs: spread(r.restart.timeMs, 1),
        restartMiB: mib(r.restart.bytesSent),
        timeRatio: ratio(r.timeRatio),
        bytesRatio: ratio(r.bytesRatio),
        beforeCutMs: spread(r.resume.beforeCutMs, 1),
        beforeCutMiB: mib(r.resume.beforeCutBytes),
      });
  return [t.fill('resume-heading'), body, t.fill('resume-tus', { verdicts: table(verdictTable(tusVerdicts(record), 'project target')) })];
}

function hostsSection(t: Template, record: RunRecord): string[] {
  const h = record.hosts;
  if (!h) return [t.fill('hosts-heading'), t.fill('not-run', { section: 'hosts' })];
  if ('skipped' in h) return [t.fill('hosts-heading'), t.fill('not-measured', { reason: h.skipped })];
  const o = h.options;
  const tables = hostsTables(h);
  return [
    t.fill('hosts-heading'),
    t.fill('hosts', {
      description: h.description,
      hosts: h.hosts.map((x) => `${x.name} ${x.ip}`).join(', '),
      cores: h.cores,
      connections: o.connections,
      submitSeconds: o.submitSeconds,
      streamUploads: o.streamUploads,
      streamMiB: o.streamMiB,
      streamConcurrency: o.streamConcurrency,
      jobs: o.jobs,
      jobConcurrency: o.jobConcurrency,
      photoWidth: h.photo.width,
      photoHeight: h.photo.height,
      photoMiB: fixed(h.photo.bytes / MIB_BYTES, 2),
      rounds: plural(h.runs, 'round'),
      table: table(tables.runs),
      scaling: table(tables.scaling),
    }),
  ];
}

/** The notes' list items. */
function notes(t: Template, record: RunRecord): string[] {
  const out: string[] = [];
  const jobs = [...(record.transfer?.samples ?? []), ...(record.bound?.samples ?? []), ...(record.net && 'samples' in record.net ? record.net.samples : [])];
  const outcomes = new Map<string, number>();
  for (const s of jobs) {
    const key = s.job ? `${s.job.status}${s.job.reason ? ` (${s.job.reason})` : ''}` : 'no job id';
    outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
  }
  if (outcomes.size) out.push(t.fill('note-job-outcomes', { outcomes: [...outcomes].map(([k, n]) => `${n} ${k}`).join(', ') }));
  const busy = (record.transfer?.rows ?? []).map((r) => r.otherCpuPercent.median).filter(Number.isFinite);
  if (busy.length) out.push(t.fill('note-other-cpu', { min: fixed(Math.min(...busy), 0), max: fixed(Math.max(...busy), 0) }));
  // the store prints its own "store listening" line after the readiness probe's
  const logs = record.serviceLogs.map((l) => ({ ...l, lines: l.lines.filter((line) => !line.includes('"msg":"store listening"')) })).filter((l) => l.lines.length > 0);
  out.push(logs.length ? t.fill('note-service-logs', { logs: logs.map((l) => `${l.label} ${l.lines.length} line(s)`).join(', ') }) : t.fill('note-no-service-logs'));
  if (record.errors.length) out.push(t.fill('note-errors', { errors: record.errors.map((e) => `${e.section}: ${e.message}`).join('; ') }));
  return out;
}

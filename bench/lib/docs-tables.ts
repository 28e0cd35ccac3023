import { ApiSection, LIGHT_RATE } from './api';
import { autoTable } from './default-path';
import { HostsMetric, HostsSection } from './hosts-run';
import { PhotoSection } from './photo-run';
import { FieldSet, SerializationResult } from './serialization';
import { Summary, fixed, spread, summarize } from './stats';
import { ConcurrencyRow, TransferRow } from './transfer-summary';
import { Verdict } from './verdicts';

/**
 * The tables of docs/benchmarks.md (and of `make bench-net`'s output), computed from one run's
 * record; each is a list of lines ending with a blank one. The prose around them is in
 * bench/benchmarks.md.tmpl.
 */

export const MIB_BYTES = 1024 * 1024;
export const ratio = (v: number) => (Number.isFinite(v) ? `${v.toFixed(2)}×` : '–');
const orDash = (s: Summary, digits: number) => (s.n === 0 ? '–' : spread(s, digits));
/** "0.21× (0.08–0.24)" */
export const times = (s: Summary) => (s.n > 1 ? `${fixed(s.median, 2)}× (${fixed(s.min, 2)}–${fixed(s.max, 2)})` : `${fixed(s.median, 2)}×`);
/** A summary of milliseconds, in seconds. */
const seconds = (s: Summary) => spread({ ...s, median: s.median / 1000, min: s.min / 1000, max: s.max / 1000 }, 1);

export function transferTable(rows: readonly TransferRow[], withLink: boolean): string[] {
  const out: string[] = [];
  for (const size of [...new Set(rows.map((r) => r.sizeMiB))]) {
    const mine = rows.filter((r) => r.sizeMiB === size);
    out.push(`**${size} MiB** (n = ${mine[0].timeMs.n} per mode)`, '');
    out.push(
      `| mode | time to 202, ms | × floor | × legacy | 202 + job ended at the processor, ms | router bytes in / out per job, MiB${withLink ? ' | router link rx / tx per job, MiB' : ''} | router peak RSS growth, MiB | router peak RSS above its resting RSS, MiB | processor peak RSS growth, MiB | CPU ms router / processor | router CPU ms per MiB |`,
      `|---|---|---|---|---|---|${withLink ? '---|' : ''}---|---|---|---|---|`,
    );
    for (const r of mine) {
      const io = r.routerInMiB.n ? `${fixed(r.routerInMiB.median, 2)} / ${fixed(r.routerOutMiB.median, 2)}` : '– (no router)';
      const link = withLink ? ` ${r.linkRxMiB.n ? `${fixed(r.linkRxMiB.median, 2)} / ${fixed(r.linkTxMiB.median, 2)}` : '–'} |` : '';
      out.push(
        `| ${r.contender} | ${spread(r.timeMs, 1)} | ${ratio(r.vsFloor)} | ${ratio(r.vsLegacy)} | ${orDash(r.jobEndMs, 1)} | ${io} |${link} ${orDash(r.routerGrowthMiB, 1)} | ${orDash(r.routerAboveRestMiB, 1)} | ${spread(r.processorGrowthMiB, 1)} | ${r.routerCpuMs.n ? fixed(r.routerCpuMs.median, 0) : '–'} / ${fixed(r.processorCpuMs.median, 0)} | ${r.routerCpuMsPerMiB.n ? fixed(r.routerCpuMsPerMiB.median, 1) : '–'} |`,
      );
    }
    out.push('');
  }
  return out;
}

export function boundTable(rows: readonly TransferRow[]): string[] {
  return [
    '| upload | time to 202, ms | router peak RSS growth, MiB | first upload into the fresh router, growth MiB | router peak RSS above its resting RSS, MiB | router peak RSS, MiB | router bytes in / out, MiB |',
    '|---|---|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.sizeMiB} MiB | ${spread(r.timeMs, 0)} | ${spread(r.routerGrowthMiB, 1)} | ${fixed(r.coldRouterGrowthMiB ?? Number.NaN, 1)} | ${spread(r.routerAboveRestMiB, 1)} | ${spread(r.routerPeakMiB, 0)} | ${fixed(r.routerInMiB.median, 1)} / ${fixed(r.routerOutMiB.median, 1)} |`,
    ),
    '',
  ];
}

export function concurrencyTable(rows: readonly ConcurrencyRow[]): string[] {
  return [
    '| mode | wall time for all, ms | × legacy | per-upload time to 202 (median of all), ms | router peak RSS growth, MiB | router peak RSS above its resting RSS, MiB | router peak RSS, MiB | processor peak RSS growth, MiB | router CPU ms |',
    '|---|---|---|---|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.contender} | ${spread(r.wallMs, 0)} | ${ratio(r.vsLegacy)} | ${fixed(r.clientMedianMs, 0)} | ${orDash(r.routerGrowthMiB, 1)} | ${orDash(r.routerAboveRestMiB, 1)} | ${orDash(r.routerPeakMiB, 0)} | ${spread(r.processorGrowthMiB, 1)} | ${r.routerCpuMs.n ? fixed(r.routerCpuMs.median, 0) : '–'} |`,
    ),
    '',
  ];
}

/** The full configuration's table (with JSON + UTF-8) and the one without the Struct / Value fields. */
export function serializationTables(s: SerializationResult): { full: string[]; plain: string[] } {
  const get = (set: FieldSet, format: string, op: string) => s.summary.find((x) => x.set === set && x.format === format && x.op === op)?.opsPerSec;
  const r = (set: FieldSet, against: string, op: string) => s.ratios.find((x) => x.set === set && x.against === against && x.op === op)?.ratio;
  const k = (v: Summary | undefined) => (v ? `${fixed(v.median / 1000, 1)}k (${fixed(v.min / 1000, 1)}k–${fixed(v.max / 1000, 1)}k)` : '–');
  const t = (v: Summary | undefined) => (v ? times(v) : '–');
  const bytes = (set: FieldSet) => {
    const b = s.bytes[set];
    return `| bytes | ${b.protobuf} | ${b.json} | ${ratio(b.protobuf / b.json)} (${fixed(Math.abs(1 - b.protobuf / b.json) * 100, 0)} % ${b.protobuf <= b.json ? 'less' : 'more'}) |`;
  };
  const ops = ['encode', 'decode', 'roundtrip'];
  return {
    full: [
      '| operation | protobuf ops/s | JSON ops/s | protobuf ÷ JSON | JSON + UTF-8 ops/s | protobuf ÷ (JSON + UTF-8) |',
      '|---|---|---|---|---|---|',
      ...ops.map(
        (op) => `| ${op} | ${k(get('full', 'protobuf', op))} | ${k(get('full', 'json', op))} | ${t(r('full', 'json', op))} | ${k(get('full', 'json-utf8', op))} | ${t(r('full', 'json-utf8', op))} |`,
      ),
      `${bytes('full')} | |`,
      '',
    ],
    plain: [
      '| operation | protobuf ops/s | JSON ops/s | protobuf ÷ JSON |',
      '|---|---|---|---|',
      ...ops.map((op) => `| ${op} | ${k(get('plain', 'protobuf', op))} | ${k(get('plain', 'json', op))} | ${t(r('plain', 'json', op))} |`),
      bytes('plain'),
      '',
    ],
  };
}

/** Server CPU per request in each measured max-rate run of a target, in µs (% of a core × 10⁴ ÷ req/s). */
function cpuPerRequest(a: ApiSection, target: string): Summary {
  return summarize(a.samples.filter((s) => s.phase === 'measured' && s.method === 'max' && s.target === target).map((s) => (s.cpu.serverPercent * 1e4) / s.result.rate));
}

export function apiTable(a: ApiSection): string[] {
  const lat = (p50: Summary, p99: Summary) => `${spread(p50, 2)} / ${spread(p99, 2)}`;
  const bareCpu = cpuPerRequest(a, 'bare').median;
  return [
    `| target | max req/s (autocannon, closed loop) | half of it, req/s | at half: open-loop p50 / p99, ms | at half: autocannon overallRate p50 / p99, ms | at ${LIGHT_RATE} req/s: open-loop p50 / p99, ms | server CPU at max, % of a core | server CPU per request at max, µs (× bare) | load generator CPU at max, % of a core | non-2xx / errors |`,
    '|---|---|---|---|---|---|---|---|---|---|',
    ...a.summary.map((t) => {
      const perRequest = cpuPerRequest(a, t.target);
      return `| ${t.target}: ${t.description} | ${spread(t.maxRate, 0)} | ${t.paced.p99.n > 0 ? t.halfRate : 'n/a (not run)'} | ${lat(t.paced.p50, t.paced.p99)} | ${lat(t.rate.p50, t.rate.p99)} | ${lat(t.light.p50, t.light.p99)} | ${fixed(t.serverCpuPercentAtMax.median, 0)} | ${spread(perRequest, 0)} (${fixed(perRequest.median / bareCpu, 2)}×) | ${fixed(t.generatorCpuPercentAtMax.median, 0)} | ${t.non2xx} / ${t.errors} |`;
    }),
    '',
  ];
}

export function verdictTable(vs: readonly Verdict[], head: string): string[] {
  return [`| ${head} | measured in this run | verdict | rule |`, '|---|---|---|---|', ...vs.map((v) => `| ${v.claim} | ${v.measured} | **${v.outcome}** | ${v.rule} |`), ''];
}

/** Auto's choice: stream beside s3 (embedded store and Ceph RGW) at each size of section 1. */
export function autoChoiceTable(rows: readonly TransferRow[]): string[] {
  return [
    '| upload | stream, ms | s3 (embedded s3rver), ms | s3 (Ceph RGW), ms | faster |',
    '|---|---|---|---|---|',
    ...autoTable(rows).map((r) => `| ${r.sizeMiB} MiB | ${fixed(r.streamMs, 1)} | ${fixed(r.s3Ms, 1)} | ${Number.isFinite(r.s3RgwMs) ? fixed(r.s3RgwMs, 1) : '–'} | ${r.faster} |`),
    '',
  ];
}

export function photoTable(p: PhotoSection): string[] {
  const specs: Record<string, string> = { defaults: 'defaults (invisible watermark)', stegano: '`enable_stegano_embed=true` (watermark + LSB stegano)' };
  return [
    '| spec | protected image | its size, MiB (× original) | upload start → job completed, s | of which processing (processor’s clock), s | processor CPU, s | longest wait for a status answer, s | processor peak RSS, MiB | peak RSS growth, MiB | peak RSS above resting, MiB | ÷ one copy of the pixels | marks read back |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...p.rows.map(
      (r) =>
        `| ${specs[r.spec] ?? r.spec} | ${r.contentTypes.join(', ')} ${r.outputSizes.map((d) => d.replace('x', '×')).join(', ')} | ${spread(r.outputMiB, 1)} (${fixed(r.outputVsInput.median, 2)}×) | ${seconds(r.totalMs)} | ${seconds(r.processingMs)} | ${seconds(r.processorCpuMs)} | ${seconds(r.longestPollMs)} | ${spread(r.peakMiB, 0)} | ${spread(r.growthMiB, 0)} | ${spread(r.aboveRestMiB, 0)} | ${spread(r.aboveRestCopies, 2)} | watermark ${r.watermarkVerified}/${r.n}${r.steganoExpected ? `, stegano ${r.steganoVerified}/${r.steganoExpected}` : ''} |`,
    ),
    '',
  ];
}

const hostsUnits = (streamMiB: number): Record<HostsMetric, { unit: string; digits: number }> => ({
  submit: { unit: 'queued submits/s', digits: 0 },
  stream: { unit: `${streamMiB} MiB uploads/s`, digits: 2 },
  jobs: { unit: 'jobs/s', digits: 2 },
});

/** The rate of each run type of the hosts section, and what a second host of a kind gave. */
export function hostsTables(h: HostsSection): { runs: string[]; scaling: string[] } {
  const units = hostsUnits(h.options.streamMiB);
  const pct = (s: Summary) => spread(s, 0);
  return {
    runs: [
      '| run | routers | processors | rate | machine busy, % of all cores | routers, % of a core | processors, % of a core | failed |',
      '|---|---|---|---|---|---|---|---|',
      ...h.rows.map((r) => {
        const u = units[r.metric];
        return `| ${r.label} | ${r.routers} | ${r.metric === 'submit' ? '– (not involved)' : r.processors} | ${spread(r.rate, u.digits)} ${u.unit} | ${pct(r.machinePercent)} | ${pct(r.routersPercent)} | ${r.metric === 'submit' ? '–' : pct(r.processorsPercent)} | ${r.failed} |`;
      }),
      '',
    ],
    scaling: ['| scaling | two hosts ÷ one, paired by round |', '|---|---|', ...h.scaling.map((sc) => `| ${units[sc.metric].unit}, ${sc.kind}: ${sc.two} ÷ ${sc.one} | **${times(sc.ratio)}** |`), ''],
  };
}

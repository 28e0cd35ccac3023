import { LIGHT_RATE } from './api';
import { RunRecord } from './record';
import { medianOps } from './serialization';
import { fixed } from './stats';
import { TransferRow } from './transfer-summary';

export type Outcome = 'held' | 'did not hold' | 'not measured';

export interface Verdict {
  /** What was claimed or targeted. */
  claim: string;
  /** What this run measured, in words, with the figures. */
  measured: string;
  outcome: Outcome;
  /** How the outcome was decided. */
  rule: string;
}

/** 'not measured' when a figure the decision rests on is missing (NaN), else held / did not hold. */
export function judge(figures: readonly number[], ok: boolean): Outcome {
  if (figures.some((f) => !Number.isFinite(f))) return 'not measured';
  return ok ? 'held' : 'did not hold';
}

const x = (ratio: number) => `${fixed(ratio, 2)}×`;
const pct = (share: number) => `${fixed(Math.abs(share) * 100, 0)} %`;
/** "40 % less time" / "12 % more time" from a time ratio. */
const change = (ratio: number) => (ratio <= 1 ? `${pct(1 - ratio)} less time` : `${pct(ratio - 1)} more time`);
const ms = (v: number) => (v >= 1000 ? `${fixed(v / 1000, 2)} s` : `${fixed(v, v < 10 ? 2 : 1)} ms`);

function row(rows: readonly TransferRow[] | undefined, sizeMiB: number, label: string): TransferRow | undefined {
  return rows?.find((r) => r.sizeMiB === sizeMiB && r.contender === label);
}

function netRows(record: RunRecord): TransferRow[] | undefined {
  return record.net && 'rows' in record.net ? record.net.rows : undefined;
}

/** Where the constrained links are: "100 Mbit/s links (constrained)", or just "constrained links". */
function constrainedWhere(record: RunRecord): string {
  return record.net && 'rateMbit' in record.net ? `${record.net.rateMbit} Mbit/s links (constrained)` : 'constrained links';
}

/** The ratio "stream time / legacy time" where both rows exist. */
function streamVsLegacy(rows: readonly TransferRow[] | undefined, sizeMiB: number): { legacy: TransferRow; stream: TransferRow; ratio: number } | undefined {
  const legacy = row(rows, sizeMiB, 'legacy');
  const stream = row(rows, sizeMiB, 'stream');
  return legacy && stream ? { legacy, stream, ratio: stream.timeMs.median / legacy.timeMs.median } : undefined;
}

/** (i) Double transfer for 10 MB: 4 s → 2 s, i.e. half the time once the second hop is gone. */
function doubleTransfer(record: RunRecord): Verdict[] {
  const out: Verdict[] = [];
  const size = 10;
  const sources: [string, TransferRow[] | undefined][] = [
    [`${size} MiB over ${constrainedWhere(record)}`, netRows(record)],
    [`${size} MiB on loopback`, record.transfer?.rows],
  ];
  for (const [where, rows] of sources) {
    const m = streamVsLegacy(rows, size);
    if (!m) {
      out.push({ claim: 'double transfer for 10 MB: 4 s → 2 s (half the time without the second hop)', measured: `${where}: not measured in this run`, outcome: 'not measured', rule: '' });
      continue;
    }
    const direct = row(rows, size, 'direct');
    const floor = row(rows, size, 'floor');
    out.push({
      claim: 'double transfer for 10 MB: 4 s → 2 s (half the time without the second hop)',
      measured:
        `${where}: legacy ${ms(m.legacy.timeMs.median)} → stream ${ms(m.stream.timeMs.median)} = ${x(m.ratio)} of legacy` +
        (direct ? `; direct ${ms(direct.timeMs.median)} = ${x(direct.timeMs.median / m.legacy.timeMs.median)}` : '') +
        (floor ? `; one hop straight to the processor (floor) ${ms(floor.timeMs.median)} = ${x(floor.timeMs.median / m.legacy.timeMs.median)}` : ''),
      outcome: judge([m.ratio], m.ratio <= 0.55),
      rule: 'held if the stream/legacy ratio of median times to the 202 is at most 0.55 (0.5 claimed, 10 % allowance); the absolute 4 s / 2 s depend on the link speed',
    });
  }
  return out;
}

/** (ii) gRPC "40 % faster" than the HTTP path. */
function grpcFaster(record: RunRecord): Verdict[] {
  const out: Verdict[] = [];
  const sources: [string, TransferRow[] | undefined][] = [
    ['loopback', record.transfer?.rows],
    ['constrained links', netRows(record)],
  ];
  for (const [where, rows] of sources) {
    if (!rows) continue;
    const sizes = [...new Set(rows.map((r) => r.sizeMiB))];
    const pairs = sizes.map((s) => ({ s, m: streamVsLegacy(rows, s) })).filter((p) => p.m);
    if (pairs.length === 0) continue;
    const held = pairs.filter((p) => p.m!.ratio <= 0.6);
    out.push({
      claim: 'gRPC path "40 % faster" than the HTTP path',
      measured: `${where}: stream (gRPC) time to 202 as a share of legacy (HTTP): ` + pairs.map((p) => `${p.s} MiB ${x(p.m!.ratio)} (${change(p.m!.ratio)})`).join(', '),
      outcome: judge(
        pairs.map((p) => p.m!.ratio),
        held.length === pairs.length,
      ),
      rule: `held if stream takes at most 0.60× legacy's median time at every size; held at ${held.length} of ${pairs.length} sizes`,
    });
  }
  if (out.length === 0) out.push({ claim: 'gRPC path "40 % faster" than the HTTP path', measured: 'not measured in this run', outcome: 'not measured', rule: '' });
  return out;
}

/** (iii) Protobuf "3-5x faster serialization, 40 % less bandwidth" than JSON. */
function protobuf(record: RunRecord): Verdict[] {
  const s = record.serialization;
  if (!s) return [{ claim: 'protobuf 3-5× faster serialization than JSON', measured: 'not measured in this run', outcome: 'not measured', rule: '' }];
  const ratio = (op: 'encode' | 'decode' | 'roundtrip') => medianOps(s, 'protobuf', op) / medianOps(s, 'json', op);
  const ops = (['encode', 'decode', 'roundtrip'] as const).map((op) => ({ op, r: ratio(op) }));
  const saving = 1 - s.bytes.full.protobuf / s.bytes.full.json;
  const plainSaving = 1 - s.bytes.plain.protobuf / s.bytes.plain.json;
  const plain = (['encode', 'decode', 'roundtrip'] as const).map((op) => `${op} ${x(medianOps(s, 'protobuf', op, 'plain') / medianOps(s, 'json', op, 'plain'))}`);
  return [
    {
      claim: 'protobuf 3-5× faster serialization than JSON',
      measured: 'protobuf ops/s ÷ JSON ops/s (medians), full configuration: ' + ops.map((o) => `${o.op} ${x(o.r)}`).join(', ') + `; without the Struct-typed fields: ${plain.join(', ')}`,
      outcome: judge(
        ops.map((o) => o.r),
        ops.every((o) => o.r >= 3),
      ),
      rule: 'held if protobuf is at least 3× as fast for encode, decode and the round trip of the full configuration',
    },
    {
      claim: 'protobuf 40 % less bandwidth than JSON',
      measured:
        `full configuration: ${s.bytes.full.protobuf} bytes of protobuf vs ${s.bytes.full.json} bytes of JSON: ${pct(saving)} ${saving >= 0 ? 'less' : 'more'}; ` +
        `without the Struct-typed fields: ${s.bytes.plain.protobuf} vs ${s.bytes.plain.json} bytes, ${pct(plainSaving)} ${plainSaving >= 0 ? 'less' : 'more'}`,
      outcome: judge([saving], saving >= 0.4),
      rule: 'held if the encoded JobSpec of the full configuration is at least 40 % smaller than the JSON of the same fields',
    },
  ];
}

/** (iv) "<10 ms API response, 10,000 req/s". */
function api(record: RunRecord): Verdict[] {
  const a = record.api;
  const submit = a?.summary.find((t) => t.target === 'submit');
  const bare = a?.summary.find((t) => t.target === 'bare');
  if (!a || !submit) return [{ claim: '<10 ms API response, 10,000 req/s', measured: 'not measured in this run', outcome: 'not measured', rule: '' }];
  return [
    {
      claim: '<10 ms API response',
      measured:
        `queued POST /protect at ${LIGHT_RATE} req/s: p50 ${ms(submit.light.p50.median)}, p99 ${ms(submit.light.p99.median)}; ` +
        `at ${submit.halfRate} req/s (half its max): p50 ${ms(submit.paced.p50.median)}, p99 ${ms(submit.paced.p99.median)} (open-loop pacer; autocannon overallRate p99 ${ms(submit.rate.p99.median)})`,
      outcome: judge([submit.light.p99.median, submit.paced.p99.median], submit.light.p99.median < 10 && submit.paced.p99.median < 10),
      rule: `held if the submit p99 is under 10 ms both at ${LIGHT_RATE} req/s and at half the max rate (open-loop pacer, medians over runs)`,
    },
    {
      claim: '10,000 req/s',
      measured: `queued POST /protect max ${fixed(submit.maxRate.median, 0)} req/s` + (bare ? ` (bare Express on the same machine: ${fixed(bare.maxRate.median, 0)} req/s)` : ''),
      outcome: judge([submit.maxRate.median], submit.maxRate.median >= 10_000),
      rule: 'held if the median max rate of the queued submit is at least 10,000 req/s (one router process, 2 cores shared with the load generator, Redis and the store)',
    },
  ];
}

/** The size the tus verdict is judged at. */
export const TUS_VERDICT_MIB = 50;

/**
 * What the resumable protocol costs when nothing goes wrong: tus (POST /files, one PATCH of the
 * whole file, POST /protect) against `direct` (grant, PUT to the store, POST /protect), both
 * three curl requests with their time_totals added, at TUS_VERDICT_MIB in one transfer table.
 */
export function tusVsDirect(where: string, rows: readonly TransferRow[] | undefined): Verdict {
  const size = TUS_VERDICT_MIB;
  const claim = `tus costs at most 1.2× direct for an uninterrupted ${size} MiB upload`;
  const tus = row(rows, size, 'tus');
  const direct = row(rows, size, 'direct');
  if (!tus || !direct) return { claim, measured: `${size} MiB ${where}: not measured in this run`, outcome: 'not measured', rule: '' };
  const ratio = tus.timeMs.median / direct.timeMs.median;
  const stream = row(rows, size, 'stream');
  return {
    claim,
    measured:
      `${size} MiB ${where}: tus ${ms(tus.timeMs.median)} (${ms(tus.timeMs.min)}–${ms(tus.timeMs.max)}), direct ${ms(direct.timeMs.median)} (${ms(direct.timeMs.min)}–${ms(direct.timeMs.max)}) → tus ${x(ratio)} direct` +
      (stream ? `; stream ${ms(stream.timeMs.median)} = ${x(stream.timeMs.median / direct.timeMs.median)} direct` : ''),
    outcome: judge([ratio], ratio <= 1.2),
    rule: `held if tus's median time to the 202 is at most 1.2× direct's (each the sum of its three requests' curl time_total), n = ${tus.timeMs.n} / ${direct.timeMs.n}`,
  };
}

/** tusVsDirect on loopback always (not measured without the size), over the constrained links when that section ran. */
export function tusVerdicts(record: RunRecord): Verdict[] {
  const net = netRows(record);
  return [tusVsDirect('on loopback', record.transfer?.rows), ...(net ? [tusVsDirect(`over ${constrainedWhere(record)}`, net)] : [])];
}

export function designVerdicts(record: RunRecord): Verdict[] {
  return [...doubleTransfer(record), ...grpcFaster(record), ...protobuf(record), ...api(record)];
}

export function targetVerdicts(record: RunRecord): Verdict[] {
  const out: Verdict[] = [];
  const a = record.api;
  if (a) {
    for (const t of a.summary.filter((s) => s.target !== 'bare' && s.target !== 'bare-prototypes')) {
      out.push({
        claim: `p99 < 10 ms at half the max rate: ${t.target}`,
        measured: `${t.halfRate} req/s: p99 ${ms(t.paced.p99.median)} (${ms(t.paced.p99.min)}–${ms(t.paced.p99.max)}) open-loop; autocannon overallRate p99 ${ms(t.rate.p99.median)}; for comparison at ${LIGHT_RATE} req/s p99 ${ms(t.light.p99.median)}`,
        outcome: judge([t.paced.p99.median], t.paced.p99.median < 10),
        rule: 'median over runs of the open-loop p99',
      });
    }
    const submit = a.summary.find((s) => s.target === 'submit');
    const bare = a.summary.find((s) => s.target === 'bare');
    if (submit && bare) {
      out.push({
        claim: 'max submit rate ≥ 0.5 × bare Express',
        measured: `${fixed(submit.maxRate.median, 0)} vs ${fixed(bare.maxRate.median, 0)} req/s: ${x(a.submitVsBare.median)} (per-round ratios ${x(a.submitVsBare.min)}–${x(a.submitVsBare.max)})`,
        outcome: judge([a.submitVsBare.median], a.submitVsBare.median >= 0.5),
        rule: 'median of the per-round ratios (submit and bare Express measured in the same round)',
      });
    }
    const barePrototypes = a.summary.find((s) => s.target === 'bare-prototypes');
    if (submit && barePrototypes && a.submitVsBarePrototypes) {
      const r = a.submitVsBarePrototypes;
      out.push({
        claim: 'the same, against bare Express served as the router serves its app (stricter reading)',
        measured: `${fixed(submit.maxRate.median, 0)} vs ${fixed(barePrototypes.maxRate.median, 0)} req/s: ${x(r.median)} (per-round ratios ${x(r.min)}–${x(r.max)})`,
        outcome: judge([r.median], r.median >= 0.5),
        rule: "median of the per-round ratios; both apps get createExpressServer, which removes Express's per-request setPrototypeOf",
      });
    }
  }
  const [small, large] = record.options.boundSizes;
  const s = record.bound?.rows.find((r) => r.sizeMiB === small);
  const l = record.bound?.rows.find((r) => r.sizeMiB === large);
  if (s && l) {
    const diff = l.routerGrowthMiB.median - s.routerGrowthMiB.median;
    out.push({
      claim: `s3 mode: router peak RSS growth at ${large} MiB within 16 MiB of that at ${small} MiB`,
      measured: `${fixed(l.routerGrowthMiB.median, 1)} MiB at ${large} MiB vs ${fixed(s.routerGrowthMiB.median, 1)} MiB at ${small} MiB: difference ${fixed(diff, 1)} MiB (worst runs ${fixed(l.routerGrowthMiB.max, 1)} / ${fixed(s.routerGrowthMiB.max, 1)} MiB)`,
      outcome: judge([diff], diff <= 16),
      rule: 'medians over the measured runs',
    });
    out.push({
      claim: `s3 mode: router peak RSS growth at ${large} MiB under 96 MiB`,
      measured: `${fixed(l.routerGrowthMiB.median, 1)} MiB (${fixed(l.routerGrowthMiB.min, 1)}–${fixed(l.routerGrowthMiB.max, 1)}); first upload into a fresh router: ${fixed(l.coldRouterGrowthMiB ?? Number.NaN, 1)} MiB`,
      outcome: judge([l.routerGrowthMiB.median], l.routerGrowthMiB.median < 96),
      rule: 'median over the measured runs',
    });
  }
  return out;
}

/** The processor on a photograph at full resolution (section `photo`), against what docs/reference-processor.md says of it. */
export function photoVerdicts(record: RunRecord): Verdict[] {
  const p = record.photo;
  if (!p) return [{ claim: 'the protected image has the original’s dimensions', measured: 'not measured in this run', outcome: 'not measured', rule: '' }];
  const measured = p.samples.filter((s) => s.phase === 'measured');
  const size = `${p.photo.width}×${p.photo.height}`;
  const sameSize = measured.filter((s) => s.output.width === p.photo.width && s.output.height === p.photo.height);
  const outSizes = [...new Set(measured.map((s) => `${s.output.width}×${s.output.height}`))];
  const counted = (ok: boolean): Outcome => (measured.length === 0 ? 'not measured' : ok ? 'held' : 'did not hold');
  const defaults = p.rows.find((r) => r.spec === 'defaults');
  const jpeg = measured.filter((s) => s.spec === 'defaults');
  const jpegOk = jpeg.filter((s) => s.output.contentType === 'image/jpeg');
  const sizeRatio = defaults?.outputVsInput.median ?? Number.NaN;
  const watermarks = p.rows.reduce((n, r) => n + r.watermarkVerified, 0);
  const steganos = p.rows.reduce((n, r) => n + r.steganoVerified, 0);
  const steganoExpected = p.rows.reduce((n, r) => n + r.steganoExpected, 0);
  const copies = p.rows.map((r) => r.aboveRestCopies.median);
  const longestPoll = Math.max(...measured.map((s) => s.longestPollMs));
  return [
    {
      claim: 'the protected image has the original’s dimensions',
      measured: `original ${size}; protected ${outSizes.join(', ')} in ${sameSize.length} of ${measured.length} measured jobs (both specs)`,
      outcome: counted(sameSize.length === measured.length),
      rule: 'held if every measured job’s downloaded protected image (read with sharp) has the original’s width and height',
    },
    {
      claim: 'the marks are read back from the written file at full resolution',
      measured: `watermark_text in ${watermarks} of ${measured.length} jobs; stegano_message in ${steganos} of the ${steganoExpected} jobs that embed it`,
      outcome: counted(watermarks === measured.length && steganos === steganoExpected),
      rule: 'held if verified_watermark_text (and verified_stegano_message where stegano-embed was asked for) equals what was embedded in every measured job',
    },
    {
      claim: 'a JPEG original without an LSB layer comes back as a JPEG about the size it was',
      measured: `defaults: ${jpegOk.length} of ${jpeg.length} outputs image/jpeg (${defaults?.contentTypes.join(', ') ?? '–'}), ${fixed(defaults?.outputMiB.median ?? Number.NaN, 1)} MiB for a ${fixed(p.photo.bytes / (1024 * 1024), 1)} MiB original (${x(sizeRatio)})`,
      outcome: judge([sizeRatio], jpeg.length > 0 && jpegOk.length === jpeg.length && sizeRatio >= 0.75 && sizeRatio <= 1.33),
      rule: 'held if every measured defaults job returns image/jpeg and the median output size is within 0.75×–1.33× of the original’s',
    },
    {
      claim: 'the processor keeps answering while a job works on its pixels (worker thread)',
      measured: `longest wait for a status answer during a job: ${fixed(longestPoll / 1000, 2)} s over ${measured.length} jobs`,
      outcome: counted(longestPoll < 500),
      rule: 'held if no status request made while a measured job ran waited 0.5 s or more for its answer',
    },
    {
      claim: 'a job’s peak stays within five copies of its decoded pixels above the processor’s resting memory',
      measured:
        `processor peak RSS above its resting RSS, in copies of the ${fixed(p.pixelCopyMiB, 0)} MiB of decoded pixels (${size} × 3 bytes): ` +
        p.rows.map((r) => `${r.spec} ${fixed(r.aboveRestMiB.median, 0)} MiB = ${x(r.aboveRestCopies.median)}`).join(', '),
      outcome: judge(
        copies.length ? copies : [Number.NaN],
        copies.every((c) => c <= 5),
      ),
      rule: 'held if the median peak above resting is at most 5 copies for each spec (the pixels, the output read back, the hashes’ grey copy, libvips’ decode buffers and the pixel thread itself)',
    },
  ];
}

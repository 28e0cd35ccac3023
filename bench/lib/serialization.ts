import { JobSpec, jobSpecFromFields } from '@artorizer/contract';
import { roundOrder, summarize, Summary, median } from './stats';

/**
 * The fields an artist's client sends to the original API (snake_case, as JSON): a realistic
 * full configuration with 10 tags, extra_metadata and C2PA assertions.
 */
export const CLIENT_FIELDS = {
  artist_name: 'Jane Doe',
  artwork_title: 'Shaded Forest at Dusk',
  artwork_description:
    'Digital painting of an old-growth forest at dusk: layered fog between the trunks, warm low light from the west, a deer at the edge of the clearing. Painted over three weeks from field sketches made in the Black Forest; part of the Forest Studies series.',
  artwork_creation_time: '2026-03-14T09:26:53.000Z',
  artist_url: 'https://janedoe.example/portfolio',
  tags: ['forest', 'dusk', 'fog', 'landscape', 'digital-painting', 'nature', 'deer', 'moody', 'warm-light', 'series-forest-studies'],
  extra_metadata: {
    medium: 'digital',
    software: 'Krita 5.2.2',
    canvas: { width: 6000, height: 4000, dpi: 300, color_profile: 'sRGB IEC61966-2.1' },
    license: 'CC BY-NC-ND 4.0',
    series: 'Forest Studies',
    edition: 3,
    commissioned: false,
  },
  include_hash_analysis: true,
  processors: ['metadata', 'imagehash', 'dhash', 'blockhash', 'stegano'],
  enable_tineye: false,
  max_stage_dim: 1024,
  include_protection: true,
  enable_fawkes: true,
  enable_photoguard: true,
  enable_mist: false,
  enable_nightshade: true,
  enable_stegano_embed: true,
  enable_c2pa_manifest: true,
  watermark_strategy: 'invisible-watermark',
  watermark_text: 'Jane Doe 2026',
  watermark_strength: 0.6,
  stegano_message: 'Protected by Artorizer for Jane Doe; do not use for AI training.',
  c2pa_claim_generator: 'Artorizer/1.0 c2pa-rs/0.32',
  c2pa_vendor: 'artorizer',
  c2pa_assertions: [
    { label: 'c2pa.actions', data: { actions: [{ action: 'c2pa.created', softwareAgent: 'Krita 5.2.2', when: '2026-03-14T09:26:53Z' }] } },
    { label: 'stds.schema-org.CreativeWork', data: { '@context': 'https://schema.org', '@type': 'CreativeWork', author: [{ '@type': 'Person', name: 'Jane Doe' }] } },
    { label: 'c2pa.training-mining', data: { entries: { 'c2pa.ai_training': { use: 'notAllowed' }, 'c2pa.ai_generative_training': { use: 'notAllowed' } } } },
  ],
  idempotency_key: '5b0c8f0e-2f7c-4c1e-9a55-0d7f4c1b2e9a',
  priority: 10,
};

export type Format = 'protobuf' | 'json' | 'json-utf8';
export type Operation = 'encode' | 'decode' | 'roundtrip';
/**
 * full: CLIENT_FIELDS. plain: the same without extra_metadata and c2pa_assertions, the two
 * fields the contract carries as google.protobuf.Struct / Value (free-form JSON), to show
 * what those cost.
 */
export type FieldSet = 'full' | 'plain';

interface Variant {
  set: FieldSet;
  format: Format;
  op: Operation;
  run: (iterations: number) => number;
}

export interface SerializationSample {
  rep: number;
  position: number;
  set: FieldSet;
  format: Format;
  op: Operation;
  iterations: number;
  elapsedNs: number;
  opsPerSec: number;
}

export interface SerializationResult {
  fields: typeof CLIENT_FIELDS;
  /** Fields left out of the `plain` set. */
  plainOmits: string[];
  reps: number;
  targetMsPerRep: number;
  bytes: Record<FieldSet, { protobuf: number; json: number }>;
  samples: SerializationSample[];
  /** ops/s per field set, format and operation. */
  summary: { set: FieldSet; format: Format; op: Operation; opsPerSec: Summary }[];
  /** protobuf ops/s ÷ JSON ops/s, paired within each repetition. */
  ratios: { set: FieldSet; against: 'json' | 'json-utf8'; op: Operation; ratio: Summary }[];
  /** Sum of lengths, kept so that no loop is optimised away. */
  sink: number;
}

let sink = 0;

const PLAIN_OMITS = ['extra_metadata', 'c2pa_assertions'];

function fieldsOf(set: FieldSet): Record<string, unknown> {
  const fields: Record<string, unknown> = { ...CLIENT_FIELDS };
  if (set === 'plain') for (const name of PLAIN_OMITS) delete fields[name];
  return fields;
}

function loop(body: () => number): (n: number) => number {
  return (n) => {
    let acc = 0;
    for (let i = 0; i < n; i++) acc += body();
    return acc;
  };
}

function variants(set: FieldSet, withUtf8: boolean): Variant[] {
  const fields = fieldsOf(set);
  const spec = jobSpecFromFields(fields);
  const bytes = JobSpec.encode(spec).finish();
  const text = JSON.stringify(fields);
  const utf8 = Buffer.from(text, 'utf8');
  const priority = (parsed: unknown) => (parsed as { priority: number }).priority;
  const out: Variant[] = [
    { set, format: 'protobuf', op: 'encode', run: loop(() => JobSpec.encode(spec).finish().length) },
    { set, format: 'protobuf', op: 'decode', run: loop(() => JobSpec.decode(bytes).priority) },
    { set, format: 'protobuf', op: 'roundtrip', run: loop(() => JobSpec.decode(JobSpec.encode(spec).finish()).priority) },
    { set, format: 'json', op: 'encode', run: loop(() => JSON.stringify(fields).length) },
    { set, format: 'json', op: 'decode', run: loop(() => priority(JSON.parse(text))) },
    { set, format: 'json', op: 'roundtrip', run: loop(() => priority(JSON.parse(JSON.stringify(fields)))) },
  ];
  if (withUtf8) {
    out.push(
      { set, format: 'json-utf8', op: 'encode', run: loop(() => Buffer.from(JSON.stringify(fields), 'utf8').length) },
      { set, format: 'json-utf8', op: 'decode', run: loop(() => priority(JSON.parse(utf8.toString('utf8')))) },
      { set, format: 'json-utf8', op: 'roundtrip', run: loop(() => priority(JSON.parse(Buffer.from(JSON.stringify(fields), 'utf8').toString('utf8')))) },
    );
  }
  return out;
}

function timed(v: Variant, iterations: number): number {
  const start = process.hrtime.bigint();
  sink += v.run(iterations);
  return Number(process.hrtime.bigint() - start);
}

/** Iterations that take about `targetMs`, from doubling runs of at least 20 ms. */
function calibrate(v: Variant, targetMs: number): number {
  let n = 100;
  for (;;) {
    const ns = timed(v, n);
    if (ns >= 20e6) return Math.max(100, Math.round((n * targetMs * 1e6) / ns));
    n *= 2;
  }
}

function sizes(set: FieldSet): { protobuf: number; json: number } {
  const fields = fieldsOf(set);
  return { protobuf: JobSpec.encode(jobSpecFromFields(fields)).finish().length, json: Buffer.byteLength(JSON.stringify(fields), 'utf8') };
}

/**
 * Encode / decode / round trip of the JobSpec with the generated protobuf code vs JSON of the
 * client's field object. In-process, nothing else of the benchmark running. One untimed
 * repetition to warm up (JIT), then `reps` repetitions, each running every variant for about
 * `targetMs`, in an order that rotates per repetition.
 */
export function runSerialization(reps: number, targetMs: number): SerializationResult {
  const all = [...variants('full', true), ...variants('plain', false)];
  const iterations = new Map(all.map((v) => [v, calibrate(v, targetMs)]));
  for (const v of all) timed(v, iterations.get(v)!);
  const samples: SerializationSample[] = [];
  for (let rep = 1; rep <= reps; rep++) {
    for (const [position, v] of roundOrder(all, rep - 1).entries()) {
      const n = iterations.get(v)!;
      const ns = timed(v, n);
      samples.push({ rep, position, set: v.set, format: v.format, op: v.op, iterations: n, elapsedNs: ns, opsPerSec: (n * 1e9) / ns });
    }
  }
  const pick = (set: FieldSet, format: Format, op: Operation) => samples.filter((s) => s.set === set && s.format === format && s.op === op);
  const present = [...new Set(all.map((v) => `${v.set}/${v.format}/${v.op}`))].map((key) => {
    const [set, format, op] = key.split('/') as [FieldSet, Format, Operation];
    return { set, format, op };
  });
  const summary = present.map(({ set, format, op }) => ({ set, format, op, opsPerSec: summarize(pick(set, format, op).map((s) => s.opsPerSec)) }));
  const ratios = present
    .filter((p) => p.format !== 'protobuf')
    .map(({ set, format, op }) => {
      const against = format as 'json' | 'json-utf8';
      const other = pick(set, against, op);
      return { set, against, op, ratio: summarize(pick(set, 'protobuf', op).map((s) => s.opsPerSec / other.find((o) => o.rep === s.rep)!.opsPerSec)) };
    });
  return { fields: CLIENT_FIELDS, plainOmits: PLAIN_OMITS, reps, targetMsPerRep: targetMs, bytes: { full: sizes('full'), plain: sizes('plain') }, samples, summary, ratios, sink };
}

export function medianOps(result: SerializationResult, format: Format, op: Operation, set: FieldSet = 'full'): number {
  return median(result.samples.filter((s) => s.set === set && s.format === format && s.op === op).map((s) => s.opsPerSec));
}

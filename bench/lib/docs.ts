import { ApiSection, LIGHT_RATE } from './api';
import { describeCode, machineLine } from './machine';
import { NetSection } from './net-run';
import { RunRecord } from './record';
import { FieldSet, SerializationResult } from './serialization';
import { Summary, fixed, spread, summarize } from './stats';
import { ConcurrencyRow, TransferRow } from './transfer-summary';
import { Verdict, designVerdicts, photoVerdicts, targetVerdicts, tusVerdicts } from './verdicts';
import { autoTable, defaultPathVerdicts } from './default-path';
import { PhotoSection } from './photo-run';
import { HostsMetric } from './hosts-run';

/**
 * docs/benchmarks.md, written from one run's record: every figure below is computed from
 * `record`, none is typed in.
 */

const MIB_BYTES = 1024 * 1024;
const ratio = (v: number) => (Number.isFinite(v) ? `${v.toFixed(2)}×` : '–');
const orDash = (s: Summary, digits: number) => (s.n === 0 ? '–' : spread(s, digits));
/** "0.21× (0.08–0.24)" */
const times = (s: Summary) => (s.n > 1 ? `${fixed(s.median, 2)}× (${fixed(s.min, 2)}–${fixed(s.max, 2)})` : `${fixed(s.median, 2)}×`);
const MODE_NOTES: Record<string, string> = {
  floor: 'curl straight to the processor’s original HTTP API (POST /v1/jobs): one hop, no router',
  legacy: 'router TRANSFER_MODE=legacy: buffers the whole upload, then re-posts it to the processor’s HTTP API',
  stream: 'router TRANSFER_MODE=stream: relays the multipart file into a gRPC SubmitJob stream as it arrives',
  s3: 'router TRANSFER_MODE=s3: streams the file into an S3 multipart upload, then SubmitJobByReference (presigned GET)',
  direct: 'POST /uploads, PUT to the presigned URL (client → store), POST /protect {upload_id}: the router never sees the bytes',
  tus: 'tus 1.0 at /files of a router with the embedded store (TRANSFER_MODE=direct; every store mode serves it): POST /files, one PATCH of the whole file (streamed by curl from disk, the router passes it on to the store in parts), POST /protect {upload_id}',
  default: 'the router as `make up` starts it: no TRANSFER_MODE (so `auto`), the embedded store configured',
  nginx:
    'nginx (one worker) as a streaming reverse proxy in front of the processor’s HTTP API (`proxy_request_buffering off`): what a standard engine doing the router’s hop costs; its worker is measured in the router columns',
  's3-rgw': 'as `s3`, with Ceph RGW (scripts/rgw/start.sh, memstore) as the store instead of the embedded s3rver',
  'direct-rgw': 'as `direct`, with Ceph RGW as the store',
};

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

function concurrencyTable(rows: readonly ConcurrencyRow[]): string[] {
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

function serializationTable(s: SerializationResult): string[] {
  const get = (set: FieldSet, format: string, op: string) => s.summary.find((x) => x.set === set && x.format === format && x.op === op)?.opsPerSec;
  const r = (set: FieldSet, against: string, op: string) => s.ratios.find((x) => x.set === set && x.against === against && x.op === op)?.ratio;
  const k = (v: Summary | undefined) => (v ? `${fixed(v.median / 1000, 1)}k (${fixed(v.min / 1000, 1)}k–${fixed(v.max / 1000, 1)}k)` : '–');
  const t = (v: Summary | undefined) => (v ? times(v) : '–');
  const bytes = (set: FieldSet) => {
    const b = s.bytes[set];
    return `| bytes | ${b.protobuf} | ${b.json} | ${ratio(b.protobuf / b.json)} (${fixed(Math.abs(1 - b.protobuf / b.json) * 100, 0)} % ${b.protobuf <= b.json ? 'less' : 'more'}) |`;
  };
  const ops = ['encode', 'decode', 'roundtrip'];
  return [
    '**Full configuration**',
    '',
    '| operation | protobuf ops/s | JSON ops/s | protobuf ÷ JSON | JSON + UTF-8 ops/s | protobuf ÷ (JSON + UTF-8) |',
    '|---|---|---|---|---|---|',
    ...ops.map(
      (op) => `| ${op} | ${k(get('full', 'protobuf', op))} | ${k(get('full', 'json', op))} | ${t(r('full', 'json', op))} | ${k(get('full', 'json-utf8', op))} | ${t(r('full', 'json-utf8', op))} |`,
    ),
    `${bytes('full')} | |`,
    '',
    `**The same without ${s.plainOmits.join(' and ')}** (the two fields the contract carries as \`google.protobuf.Struct\` / \`Value\`), measured in the same repetitions:`,
    '',
    '| operation | protobuf ops/s | JSON ops/s | protobuf ÷ JSON |',
    '|---|---|---|---|',
    ...ops.map((op) => `| ${op} | ${k(get('plain', 'protobuf', op))} | ${k(get('plain', 'json', op))} | ${t(r('plain', 'json', op))} |`),
    bytes('plain'),
    '',
  ];
}

/** Server CPU per request in each measured max-rate run of a target, in µs (% of a core × 10⁴ ÷ req/s). */
function cpuPerRequest(a: ApiSection, target: string): Summary {
  return summarize(a.samples.filter((s) => s.phase === 'measured' && s.method === 'max' && s.target === target).map((s) => (s.cpu.serverPercent * 1e4) / s.result.rate));
}

function apiTable(a: ApiSection): string[] {
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
    `Queued submit max rate ÷ bare Express max rate, paired by round: **${times(a.submitVsBare)}**` +
      (a.submitVsBarePrototypes ? `; ÷ bare Express served as the router serves its app: **${times(a.submitVsBarePrototypes)}**.` : '.'),
    '',
    ...(a.keyedVsOpen
      ? [
          `What API keys and rate limits cost the queued submit (submit-keyed ÷ submit, paired by round): max rate **${times(a.keyedVsOpen.maxRate)}**; open-loop p99 at each one's half rate **${times(a.keyedVsOpen.pacedP99)}** (${a.keyedVsOpen.keyedGrants} upload grants written for the key beforehand).`,
          '',
        ]
      : []),
    ...(a.bareAtSubmitRate
      ? [
          `Bare Express paced at the submit's half rate (${a.bareAtSubmitRate.rate} req/s), in the same rounds: open-loop p50 / p99 ${spread(a.bareAtSubmitRate.p50, 2)} / ${spread(a.bareAtSubmitRate.p99, 2)} ms; submit p99 ÷ this p99, paired by round: **${times(a.bareAtSubmitRate.submitP99Ratio)}**. A route that does nothing gets this tail from the machine at that rate.`,
          '',
        ]
      : []),
  ];
}

export function verdictTable(vs: readonly Verdict[], head: string): string[] {
  return [`| ${head} | measured in this run | verdict | rule |`, '|---|---|---|---|', ...vs.map((v) => `| ${v.claim} | ${v.measured} | **${v.outcome}** | ${v.rule} |`), ''];
}

function cpuOfOthers(a: ApiSection): string {
  const at = (target: string) => a.samples.filter((s) => s.phase === 'measured' && s.method === 'max' && s.target === target);
  const med = (xs: (number | undefined)[]) => {
    const v = xs.filter((n): n is number => n !== undefined && Number.isFinite(n)).sort((p, q) => p - q);
    return v.length ? v[Math.floor(v.length / 2)] : Number.NaN;
  };
  const submit = at('submit');
  const stream = at('stream');
  return (
    `At max rate (medians, % of one core): submit: router ${fixed(med(submit.map((s) => s.cpu.serverPercent)), 0)}, store (s3rver) ${fixed(med(submit.map((s) => s.cpu.storePercent)), 0)}, Redis ${fixed(med(submit.map((s) => s.cpu.redisPercent)), 0)}, ` +
    `whole machine ${fixed(med(submit.map((s) => s.cpu.machineBusyPercent)), 0)} % of both cores; stream: router ${fixed(med(stream.map((s) => s.cpu.serverPercent)), 0)}, processor ${fixed(med(stream.map((s) => s.cpu.processorPercent)), 0)}.`
  );
}

export function renderDocs(record: RunRecord): string {
  const m = record.machine;
  const o = record.options;
  const out: string[] = [];
  const codes = Object.entries(record.sectionCode);
  const first = codes[0]?.[1];
  const same = codes.every(([, c]) => c && first && c.commit === first.commit && c.diffSha256 === first.diffSha256);
  const code = !first
    ? `commit ${m.gitCommit.slice(0, 12)}`
    : same
      ? describeCode(first)
      : `changed during the run (another developer was editing): ${codes.map(([section, c]) => `${section}: ${c ? describeCode(c) : '?'}`).join('; ')}`;
  out.push(
    '# Benchmarks',
    '',
    `Written by \`${record.command}\` (\`make bench\`), started ${record.startedAt}, took ${fixed((record.durationSec ?? Number.NaN) / 60, 1)} min. ` +
      'Every figure on this page was computed by that run from its own measurements (nothing is typed in); the raw samples, ' +
      'machine details and service logs are in `bench/results/latest.json`. Do not edit by hand: run `make bench` again.',
    '',
    ...Object.entries(record.sectionRuns ?? {}).map(
      ([section, r]) =>
        `Section \`${section}\` comes from a later run of that section alone, \`${r.command}\`, started ${r.startedAt}, took ${fixed(r.durationSec / 60, 1)} min (load average at start ${r.loadavgAtStart.map((l) => l.toFixed(2)).join(' ')}, at end ${r.loadavgAtEnd.map((l) => l.toFixed(2)).join(' ')}), merged into this record by \`--update-latest\`.\n`,
    ),
    '## Machine',
    '',
    '| | |',
    '|---|---|',
    `| machine | ${machineLine(m)} |`,
    `| load average (1/5/15 min) | the machine is shared with other work; at start ${m.loadavgAtStart.map((l) => l.toFixed(2)).join(' ')}, at end ${(m.loadavgAtEnd ?? []).map((l) => l.toFixed(2)).join(' ')} |`,
    `| Redis | ${m.redisVersion ?? 'not used'} |`,
    `| code (services load the working tree when they start) | ${code} |`,
    `| sections | ${Object.entries(record.sectionSeconds)
      .map(([k, v]) => `${k} ${fixed(v ?? Number.NaN, 0)} s`)
      .join(', ')} |`,
    '',
    '## How the figures are made',
    '',
    `- Everything runs on this machine, started and stopped by the benchmark: the embedded S3-compatible store (s3rver, its own process), one reference processor, one router process per mode (each on its own port), Redis at ${o.api.redisUrl} for the API section (keys under a fresh REDIS_PREFIX per run, deleted afterwards).`,
    `- Contenders alternate: within each round the order is a row of a balanced Latin square (each one follows each other equally often), after one warm-up per contender. Figures are **median (min–max) over ${o.runs} measured runs**; ratios are ratios of medians unless said otherwise.`,
    '- Peak RSS growth: the kernel’s high-water mark (VmHWM, reset through /proc/<pid>/clear_refs before each job) minus RSS just before; of the node process that serves, not its tsx launcher. It counts only pages newly made resident: memory a process already held from an earlier job is reused without growth.',
    '- Router peak RSS above its resting RSS: the same peak minus the lowest RSS the router had while idle in that section (right after start-up, or just before any of its jobs, warm-up included). Unlike the growth it includes memory held on from earlier jobs (each router serves all its jobs of a section): what the router occupies at the peak beyond its idle floor.',
    '- Router bytes in / out: /proc/<pid>/io rchar / wchar of the router during the job (every read/write call; on these paths only sockets): on loopback this is what crosses its network interfaces.',
    '- Test images (sections 1, 2 and 5): a PNG signature followed by random bytes (MiB = 2^20 bytes). The router and processor accept them by their magic bytes; the job then fails as undecodable, quickly, so processing does not compete with the next upload. The benchmark waits (outside the timing) until each job has ended.',
    '- Client: curl, one process per request, for every mode (multipart fields before the file; `direct` and `tus` are three curl requests each, whose `time_total`s are added). The 2-core machine runs client, router, processor, store and the benchmark at once, so absolute figures are low and noisy; the side-by-side ratios are the result.',
    '',
  );

  if (record.transfer) {
    out.push('## 1. Transfer', '', `${record.transfer.description}. Time from the first byte of the client's upload to the job being accepted (the 202).`, '');
    const d = record.routerDefaults;
    const extra: Record<string, string> = {
      stream: ` (gRPC messages of UPLOAD_CHUNK_SIZE = ${d.chunkBytes} bytes, the default)`,
      s3: ` (parts of S3_PART_SIZE = ${d.s3PartBytes} bytes, ${d.s3QueueSize} at a time, the defaults)`,
    };
    const present = new Set(record.transfer.rows.map((r) => r.contender));
    for (const [mode, note] of Object.entries(MODE_NOTES)) if (present.has(mode)) out.push(`- \`${mode}\`: ${note}${extra[mode] ?? ''}`);
    out.push(
      '',
      'In `s3` and `direct` the processor is given a reference and fetches the image after the 202 (when the job runs); in the other modes it holds the bytes at the 202. The column "202 + job ended" adds the time until the processor had ended the job (fetched the image and found it undecodable), polled every 5 ms, so it compares when the processor actually had the bytes.',
      '',
      ...transferTable(record.transfer.rows, false),
    );
  }
  if (record.bound) {
    const [small, large] = o.boundSizes;
    out.push(
      `### s3 mode: router memory at ${small} MiB vs ${large} MiB`,
      '',
      `Two s3-mode routers, each only ever given one of the sizes (alternating), so neither reuses memory held from the other size. S3_PART_SIZE (${record.routerDefaults.s3PartBytes} bytes) and S3_QUEUE_SIZE (${record.routerDefaults.s3QueueSize}) at their defaults: at most their product in part buffers.`,
      '',
    );
    out.push(
      '| upload | time to 202, ms | router peak RSS growth, MiB | first upload into the fresh router, growth MiB | router peak RSS above its resting RSS, MiB | router peak RSS, MiB | router bytes in / out, MiB |',
      '|---|---|---|---|---|---|---|',
    );
    for (const r of record.bound.rows) {
      out.push(
        `| ${r.sizeMiB} MiB | ${spread(r.timeMs, 0)} | ${spread(r.routerGrowthMiB, 1)} | ${fixed(r.coldRouterGrowthMiB ?? Number.NaN, 1)} | ${spread(r.routerAboveRestMiB, 1)} | ${spread(r.routerPeakMiB, 0)} | ${fixed(r.routerInMiB.median, 1)} / ${fixed(r.routerOutMiB.median, 1)} |`,
      );
    }
    out.push(
      '',
      ...verdictTable(
        targetVerdicts(record).filter((v) => v.claim.startsWith('s3 mode')),
        'project target',
      ),
    );
  }
  if (record.concurrency) {
    out.push(
      `## 2. Concurrency: ${o.concurrency.uploads} simultaneous ${o.concurrency.sizeMiB} MiB uploads`,
      '',
      `${o.concurrency.uploads} curl processes started together against one router; wall time from the first start to the last 202.`,
      '',
      ...concurrencyTable(record.concurrency.rows),
    );
  }
  if (record.serialization) {
    const s = record.serialization;
    out.push(
      '## 3. Serialization: JobSpec in protobuf vs the client’s JSON',
      '',
      `The JobSpec built by \`jobSpecFromFields\` from a full client configuration (10 tags, extra_metadata, 3 C2PA assertions; the field object is in \`bench/lib/serialization.ts\`), encoded with the generated code (\`JobSpec.encode(spec).finish()\`, \`JobSpec.decode\`), against \`JSON.stringify\` / \`JSON.parse\` of the snake_case field object the client sends. "JSON + UTF-8" adds the conversion to and from bytes that a socket needs (protobuf already yields bytes). The spec carries the defaults the client left out, so the protobuf message holds more than the JSON. In the benchmark process with nothing else of the benchmark running; ${s.reps} repetitions of about ${s.targetMsPerRep} ms per operation after an untimed one, order rotating; median (min–max) of the repetitions; ratios paired within a repetition.`,
      '',
      ...serializationTable(s),
    );
  }
  if (record.api) {
    const a = record.api;
    out.push(
      '## 4. API',
      '',
      `Routers with REDIS_URL. **submit**: a TRANSFER_MODE=direct router with DISPATCHER=off, so every accepted submit is recorded and enqueued in Redis and the queue just grows (its processor address is the real processor, so the breaker is closed as in production); every request names the same uploaded object (${a.setup.jsonBodyBytes}-byte JSON body: the serialization section's fields plus upload_id), validated (fields, upload_id) and written to Redis (the record and the BullMQ entry in one MULTI/EXEC, shared by the submits of one event-loop turn: \`JobIntake\`); the object itself is checked by the dispatcher, not on the request path (see \`UploadIdPath\` in router/src/submit/by-upload-id.ts). **status**: GET of one queued job. **stream**: a stream-mode router in front of a real processor (the synchronous path), ${a.setup.streamBodyBytes}-byte multipart bodies. **bare**: an Express app whose only route answers 202 (\`bench/lib/bare-express.ts\`), started with app.listen: the issue's baseline. **bare-prototypes**: the same app served by the router's \`createExpressServer\` (router/src/http/express-server.ts), which creates requests and responses with the app's prototypes so that Express's per-request Object.setPrototypeOf does nothing; the routers are served that way, so this is the like-for-like baseline; only its max rate is measured (the open-loop pacer cannot drive half of it). Services log at warn.`,
      '',
      `Load comes from a separate process (\`bench/lib/load-worker.ts\`) on the same 2 cores, so the server gets at most what the generator leaves. Max rate: autocannon (library) with ${a.connections} connections for ${a.maxSeconds} s, 2xx responses per second. Latency at half the median max rate, ${a.latencySeconds} s each, two ways: autocannon \`overallRate\` (it sends each connection's share for the second in a burst at the start of the second, then waits, so its latencies are those of bursts of ${a.connections} concurrent requests; latencies are whole milliseconds; its coordinated-omission correction is switched off because autocannon 9 uses a 1 ms expected interval whatever the rate), and an open-loop pacer (\`bench/lib/pacer.ts\`: one request every 1/rate s on up to ${a.connections} keep-alive connections, latency from the scheduled send time, so queueing counts; includes up to ~1 ms of timer granularity). The same pacer at ${LIGHT_RATE} req/s gives the response time with next to no queueing.`,
      '',
      ...apiTable(a),
      cpuOfOthers(a),
      '',
      `Redis keys deleted after the run: ${a.redisCleanup.map((c) => `${c.prefix}: ${c.deleted} deleted, ${c.remaining} left`).join('; ')}.`,
      '',
      ...verdictTable(
        targetVerdicts(record).filter((v) => !v.claim.startsWith('s3 mode')),
        'project target',
      ),
    );
  }
  out.push('## 5. Constrained links', '');
  const net = record.net;
  if (net && 'rows' in net) {
    const n: NetSection = net;
    out.push(
      `The transfer table again, with each link limited to ${n.rateMbit} Mbit/s: ${n.description}. Addresses in 198.18.0.0/24 (the benchmarking range) inside namespaces the run created and removed (${n.namespaces.join(', ')}); nothing leaves them. Same clients, modes and measurements as in section 1; "router link rx / tx" are the kernel counters of the router namespace's interface (frames, headers included). ${n.runs} measured runs after a warm-up.`,
      '',
      ...transferTable(n.rows, true),
    );
  } else if (net) {
    out.push(`Not measured: ${net.skipped}.`, '');
  } else {
    out.push('Not run in this run (the `net` section was not selected).', '');
  }
  out.push(...defaultPathSection(record));
  out.push(...photoSection(record));
  out.push(...resumeSection(record));
  out.push(...hostsSection(record));
  out.push(
    '## Design estimates versus measurements',
    '',
    'The original design document’s estimates beside this run’s figures; each verdict is computed by `bench/lib/verdicts.ts` with the rule shown.',
    '',
    ...verdictTable(designVerdicts(record), 'estimate'),
  );
  out.push('## Notes', '', ...notes(record).map((n) => `- ${n}`), '');
  return out.join('\n');
}

function defaultPathSection(record: RunRecord): string[] {
  const out = ['## 6. The default path (`make up`)', ''];
  if (record.transfer) {
    out.push(
      "Auto's choice, derived from section 1: the median time to the 202 of `stream` beside `s3` at each size, on the embedded store (what `make up` has) and on Ceph RGW (a real engine, same run). `auto` takes the faster path; the router's default `AUTO_S3_THRESHOLD` is checked against it below.",
      '',
      '| upload | stream, ms | s3 (embedded s3rver), ms | s3 (Ceph RGW), ms | faster |',
      '|---|---|---|---|---|',
      ...autoTable(record.transfer.rows).map((r) => `| ${r.sizeMiB} MiB | ${fixed(r.streamMs, 1)} | ${fixed(r.s3Ms, 1)} | ${Number.isFinite(r.s3RgwMs) ? fixed(r.s3RgwMs, 1) : '–'} | ${r.faster} |`),
      '',
    );
  }
  out.push(...verdictTable(defaultPathVerdicts(record), 'project target'));
  return out;
}

const seconds = (s: Summary) => spread({ ...s, median: s.median / 1000, min: s.min / 1000, max: s.max / 1000 }, 1);

function photoTable(p: PhotoSection): string[] {
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

function photoSection(record: RunRecord): string[] {
  const p = record.photo;
  if (!p) return ['## 7. Processing a photograph at full resolution', '', 'Not run in this run (the `photo` section was not selected).', ''];
  const { width, height, bytes } = p.photo;
  const pixels = width * height;
  const worst = Math.max(...p.rows.map((r) => r.aboveRestMiB.median));
  const n = p.rows[0]?.n ?? 0;
  return [
    `## 7. Processing a ${fixed(bytes / MIB_BYTES, 0)} MiB photograph at full resolution`,
    '',
    `A photograph-like JPEG made by the run (\`bench/lib/photo.ts\`: ${p.photo.recipe}): ${width}×${height} (${fixed(pixels / 1e6, 1)} Mpx), ${fixed(bytes / MIB_BYTES, 1)} MiB (${fixed(bytes / 1e6, 1)} MB), made in ${fixed(p.photo.generateMs / 1000, 1)} s and deleted afterwards. ` +
      `One reference processor of its own, at its defaults (MAX_FILE_SIZE ${fixed(p.limits.maxImageBytes / MIB_BYTES, 0)} MiB, MAX_IMAGE_PIXELS ${p.limits.maxImagePixels}, PROCESSOR_CONCURRENCY ${p.limits.concurrency}; only its ports and work folder are set), with nothing else of the benchmark running. ` +
      `curl posts the photograph to its HTTP API (\`POST /v1/jobs\`) with two specs, alternating per round after one warm-up of each: median (min–max) over ${n} job${n === 1 ? '' : 's'} per spec.`,
    '',
    `The processor’s window (peak RSS through clear_refs as above, CPU) opens before the upload and closes when the benchmark sees the job completed (GET /v1/jobs/:id every ${p.pollMs} ms, each on a new connection), so it spans receiving the file, the analysis (hashes, stegano detection), the layers, encoding, reading the marks back from the written file and hashing the artifacts. ` +
      'The longest wait for a status answer is the slowest of those GETs: how long the processor served no request at all during the job. ' +
      'Then, outside the window, the result and the protected image are downloaded, its sha256 checked against the result and its dimensions read with sharp; the run fails if they differ from the original’s or if a mark asked for was not read back.',
    '',
    ...photoTable(p),
    `One copy of the decoded pixels: ${width} × ${height} × 3 bytes = ${fixed(p.pixelCopyMiB, 0)} MiB. The processor’s resting RSS (its lowest, at start-up or before a job): ${fixed(p.restingKiB / 1024, 0)} MiB. ` +
      `Its first job, into the fresh process (the warm-up, ${p.cold.spec}): peak RSS ${fixed(p.cold.peakMiB, 0)} MiB, growth ${fixed(p.cold.growthMiB, 0)} MiB, ${fixed(p.cold.aboveRestMiB, 0)} MiB above resting. ` +
      `Scaled linearly to MAX_IMAGE_PIXELS (${p.limits.maxImagePixels} pixels, ${fixed(p.limits.maxImagePixels / pixels, 2)}× this photograph’s), the larger median peak above resting would be about ${fixed((worst * p.limits.maxImagePixels) / pixels, 0)} MiB: an extrapolation, not a measurement, and high, since it scales the process’s fixed overheads too.`,
    '',
    ...verdictTable(photoVerdicts(record), 'claim (docs/reference-processor.md)'),
  ];
}

function resumeSection(record: RunRecord): string[] {
  const out = ['## 8. Resumable uploads (tus)', ''];
  const r = record.resume;
  if (!r) {
    out.push('Resuming: not run in this run (the `resume` section was not selected).', '');
  } else {
    const mib = (s: Summary) => spread({ ...s, median: s.median / MIB_BYTES, min: s.min / MIB_BYTES, max: s.max / MIB_BYTES }, 2);
    out.push(
      `An upload of ${fixed(r.fileBytes / MIB_BYTES, 0)} MiB cut after ${fixed(r.cutFraction * 100, 0)} % (${r.cutBytes} bytes), on loopback, and what finishing it costs from the cut on. ` +
        `**Resume**: before the cut (not counted) \`POST /files\` and a PATCH of the first ${r.cutBytes} bytes to the \`${r.resume.router}\` router; after it, \`HEAD\` for the offset the router has, a PATCH of the rest (from a file of its own, streamed by curl) and \`POST /protect\`. ` +
        `**Start over**: a path that cannot resume sends the whole file again, one multipart \`POST /protect\` to the \`${r.restart.router}\` router. ` +
        `Bytes sent are curl's \`size_upload\` (multipart framing included), time is curl's \`time_total\` (summed over the requests) to the 202. One warm-up of each, then ${r.runs} round${r.runs === 1 ? '' : 's'} alternating which goes first; median (min–max).`,
      '',
      '| after the cut | time to 202, ms | bytes sent, MiB |',
      '|---|---|---|',
      `| resume (tus: HEAD + PATCH of the rest + POST /protect) | ${spread(r.resume.timeMs, 1)} | ${mib(r.resume.bytesSent)} |`,
      `| start over (multipart POST /protect to \`${r.restart.router}\`) | ${spread(r.restart.timeMs, 1)} | ${mib(r.restart.bytesSent)} |`,
      `| resume ÷ start over (medians) | ${ratio(r.timeRatio)} | ${ratio(r.bytesRatio)} |`,
      '',
      `Before the cut, the resumed upload's creation and first PATCH took ${spread(r.resume.beforeCutMs, 1)} ms for ${mib(r.resume.beforeCutBytes)} MiB.`,
      '',
    );
  }
  out.push('What tus costs when nothing goes wrong (the `tus` rows of sections 1 and 5 against `direct`):', '', ...verdictTable(tusVerdicts(record), 'project target'));
  return out;
}

function notes(record: RunRecord): string[] {
  const out: string[] = [];
  const jobs = [...(record.transfer?.samples ?? []), ...(record.bound?.samples ?? []), ...(record.net && 'samples' in record.net ? record.net.samples : [])];
  const outcomes = new Map<string, number>();
  for (const s of jobs) {
    const key = s.job ? `${s.job.status}${s.job.reason ? ` (${s.job.reason})` : ''}` : 'no job id';
    outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
  }
  if (outcomes.size) out.push(`Transfer jobs after their 202: ${[...outcomes].map(([k, n]) => `${n} ${k}`).join(', ')}.`);
  const busy = (record.transfer?.rows ?? []).map((r) => r.otherCpuPercent.median).filter(Number.isFinite);
  if (busy.length)
    out.push(
      `CPU used by everything but router, processor and benchmark during the transfers (curl, the store, other tenants), as a share of both cores: medians per row from ${fixed(Math.min(...busy), 0)} % to ${fixed(Math.max(...busy), 0)} %.`,
    );
  // the store prints its own "store listening" line after the readiness probe's
  const logs = record.serviceLogs.map((l) => ({ ...l, lines: l.lines.filter((line) => !line.includes('"msg":"store listening"')) })).filter((l) => l.lines.length > 0);
  out.push(logs.length ? `Services logged at warn or above: ${logs.map((l) => `${l.label} ${l.lines.length} line(s)`).join(', ')} (in latest.json).` : 'No service logged anything at warn or above.');
  if (record.errors.length) out.push(`Errors: ${record.errors.map((e) => `${e.section}: ${e.message}`).join('; ')}`);
  return out;
}

const hostsUnits = (streamMiB: number): Record<HostsMetric, { unit: string; digits: number }> => ({
  submit: { unit: 'queued submits/s', digits: 0 },
  stream: { unit: `${streamMiB} MiB uploads/s`, digits: 2 },
  jobs: { unit: 'jobs/s', digits: 2 },
});

function hostsSection(record: RunRecord): string[] {
  const out = ['## 9. Throughput per host', ''];
  const h = record.hosts;
  if (!h) return [...out, 'Not run in this run (the `hosts` section was not selected).', ''];
  if ('skipped' in h) return [...out, `Not measured: ${h.skipped}.`, ''];
  const o = h.options;
  const units = hostsUnits(o.streamMiB);
  const pct = (s: Summary) => spread(s, 0);
  out.push(
    `${h.description} (\`bench/lib/hosts.ts\`, the lab the multi-host test \`router/test/hosts\` uses too). Hosts: ${h.hosts.map((x) => `${x.name} ${x.ip}`).join(', ')}. ` +
      `**Every host is a namespace of this one machine: they all share its ${h.cores} cores**, so a second router or processor host adds processes, not CPU; what two hosts of a kind gain here is what the work left idle on the cores with one, and on real machines each host would bring its own cores.`,
    '',
    `- **submit**: \`POST /protect {upload_id}\` as in section 4 (routers with DISPATCHER=off, so the queue just grows), autocannon closed loop with ${o.connections} connections for ${o.submitSeconds} s, its connections spread over the routers (one router: all on the first).`,
    `- **stream**: ${o.streamUploads} multipart uploads of ${o.streamMiB} MiB (random bytes behind a PNG signature, as in section 1) by curl, ${o.streamConcurrency} at a time, alternating over the routers; routers in TRANSFER_MODE=stream relay each to a processor (round-robin over the ones they are given) as it arrives; uploads a second from the first start to the last 202.`,
    `- **jobs**: ${o.jobs} queued jobs, ${o.jobConcurrency} at a time, each a direct upload (POST /uploads, PUT to the store, POST /protect {upload_id}) of a ${h.photo.width}×${h.photo.height} photograph (${fixed(h.photo.bytes / MIB_BYTES, 2)} MiB JPEG, \`bench/lib/photo.ts\`) that the routers' inline dispatchers hand to the processors, processed for real (analysis and protection at the processor's defaults), followed by GET /jobs/:id until \`completed\`; jobs a second from the first submit to the last completion.`,
    `- One router host vs two: the same routers, the client using the first or both. One processor host vs two: routers given one processor address or both (PROCESSOR_ADDR), the other processor idle. Each run type once as a warm-up, then ${h.runs} round${h.runs === 1 ? '' : 's'} in a balanced order; median (min–max); ratios paired within a round. CPU: machine busy % of all cores, and % of one core summed over the run's routers / processors, from /proc.`,
    '',
    '| run | routers | processors | rate | machine busy, % of all cores | routers, % of a core | processors, % of a core | failed |',
    '|---|---|---|---|---|---|---|---|',
    ...h.rows.map((r) => {
      const u = units[r.metric];
      return `| ${r.label} | ${r.routers} | ${r.metric === 'submit' ? '– (not involved)' : r.processors} | ${spread(r.rate, u.digits)} ${u.unit} | ${pct(r.machinePercent)} | ${pct(r.routersPercent)} | ${r.metric === 'submit' ? '–' : pct(r.processorsPercent)} | ${r.failed} |`;
    }),
    '',
    '| scaling | two hosts ÷ one, paired by round |',
    '|---|---|',
    ...h.scaling.map((sc) => `| ${units[sc.metric].unit}, ${sc.kind}: ${sc.two} ÷ ${sc.one} | **${times(sc.ratio)}** |`),
    '',
    `A ratio near 1× with the machine near 100 % busy means the ${h.cores} shared cores, not the number of hosts, set the rate; above 1× the second host used CPU the first left idle (one process cannot keep both cores busy, e.g. a single event loop); below 1× the extra processes cost more than they brought. Where the min–max ranges of the two overlap, the difference is within this shared machine's noise.`,
    '',
  );
  return out;
}

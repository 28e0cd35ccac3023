/**
 * A/B probe for the stream upload path: like bench/transfer.ts, but every contender may get
 * its own processor (so processor-side settings can be compared side by side) or run from
 * another checkout (`root`, e.g. the code before a change), and contenders are given as JSON:
 *
 *   node_modules/.bin/tsx bench/tools/ab.ts --sizes 10,50 --runs 7 [--gap-ms 300] [--out rows.json] \
 *     --contender '{"label":"legacy","router":{"TRANSFER_MODE":"legacy"}}' \
 *     --contender '{"label":"before","root":"/tmp/before"}' \
 *     --contender '{"label":"stream-1m","router":{"UPLOAD_CHUNK_SIZE":"1048576"}}' \
 *     --contender '{"label":"parallel-gc","router":{"NODE_FLAGS":""},"processor":{"NODE_FLAGS":""}}'
 *
 * Contenders with the same root and processor env share one processor; routers default to
 * TRANSFER_MODE=stream; NODE_FLAGS in either env replaces scripts/node-flags for that process
 * (bench/lib/stack.ts). Order rotates per round (balanced Latin square rows); one warm-up
 * per contender and size; --gap-ms idles before each upload (routers then behave as after
 * idle time, see the GC notes in the report). Per upload it logs time to 202, router /
 * processor CPU (sys), minor faults, CPU of the main thread vs other threads, router bytes
 * read / written beyond the file, and the machine's other busy CPU ("others", curl included).
 * AB_PROFILE=1 sends SIGUSR2 to router and processor around each upload (for the
 * bench/tools/cpu-prof.cjs and bench/tools/gc-probe.cjs preloads); AB_LOG_DIR keeps the services' logs.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { curlUpload, settleJob } from '../lib/client';
import { MIB, writeTestFile } from '../lib/files';
import { ProcWindow, detectMethod, machineTicks } from '../lib/memory';
import { Host } from '../lib/host';
import { Processor, Service, startProcessor, startRouter } from '../lib/stack';
import { roundOrder, summarize } from '../lib/stats';

interface Spec {
  label: string;
  /** Run this contender's router and processor from another checkout (e.g. the code before a change). */
  root?: string;
  router?: Record<string, string>;
  processor?: Record<string, string>;
}

/** utime, stime (ms) and minor faults of a process, from /proc/<pid>/stat. */
function stat(pid: number): { user: number; sys: number; minflt: number } {
  const raw = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = raw.slice(raw.lastIndexOf(')') + 2).split(' ');
  // f[0] is field 3; minflt is field 10, utime 14, stime 15
  return { minflt: Number(f[7]), user: Number(f[11]) * 10, sys: Number(f[12]) * 10 };
}

/** CPU ms per thread name (comm) of a process. */
function threads(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    try {
      const raw = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = tid === String(pid) ? 'main' : 'other';
      const f = raw.slice(raw.lastIndexOf(')') + 2).split(' ');
      out.set(name, (out.get(name) ?? 0) + (Number(f[11]) + Number(f[12])) * 10);
    } catch {
      // thread gone
    }
  }
  return out;
}

function diff(a: Map<string, number>, b: Map<string, number>): string {
  return [...b]
    .map(([k, v]) => [k, v - (a.get(k) ?? 0)] as const)
    .filter(([, v]) => v > 0)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

interface Row {
  label: string;
  size: number;
  time: number;
  rcpu: number;
  pcpu: number;
  rread: number;
  rwrite: number;
  rpeakGrowthMiB: number;
  rpeakMiB: number;
  rsys: number;
  psys: number;
  rflt: number;
  pflt: number;
  threadLine: string;
  /** Machine busy CPU ms during the upload not used by this router or processor (curl included). */
  othersMs: number;
  /** CPU ms the other contenders' routers (idle, between their own uploads) used meanwhile. */
  peersMs: number;
}

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '10,50' },
    runs: { type: 'string', default: '5' },
    contender: { type: 'string', multiple: true },
    out: { type: 'string' },
    'gap-ms': { type: 'string', default: '0' },
  },
});
const specs: Spec[] = (values.contender ?? []).map((c) => JSON.parse(c) as Spec);
const sizes = values.sizes!.split(',').map(Number);
const runs = Number(values.runs);
const services: Service[] = [];

async function main(): Promise<void> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'artorizer-ab-'));
  const files = new Map(sizes.map((s) => [s, writeTestFile(tmp, s)]));
  const maxBytes = Math.max(256 * MIB, Math.ceil(Math.max(...sizes) * MIB) + MIB);
  const processors = new Map<string, Processor>();
  const contenders: { spec: Spec; url: string; router: Service; proc: Processor }[] = [];
  try {
    for (const spec of specs) {
      const host: Host | undefined = spec.root ? { name: spec.root, wrap: ['env', '-C', spec.root] } : undefined;
      const key = JSON.stringify([spec.root ?? '', spec.processor ?? {}]);
      let proc = processors.get(key);
      if (!proc) {
        proc = await startProcessor(
          {
            WORK_DIR: path.join(tmp, `work-${processors.size}`),
            MAX_FILE_SIZE: String(maxBytes),
            PROCESSOR_CONCURRENCY: '16',
            SHUTDOWN_GRACE_MS: '0',
            ...spec.processor,
          },
          host,
        );
        services.push(proc.service);
        processors.set(key, proc);
      }
      const { service, port } = await startRouter(
        spec.label,
        {
          TRANSFER_MODE: 'stream',
          PROCESSOR_ADDR: `127.0.0.1:${proc.grpcPort}`,
          PROCESSOR_HTTP_URL: `http://127.0.0.1:${proc.httpPort}`,
          MAX_FILE_SIZE: String(maxBytes),
          SHUTDOWN_GRACE_MS: '1000',
          ...spec.router,
        },
        host,
      );
      services.push(service);
      contenders.push({ spec, url: `http://127.0.0.1:${port}/protect`, router: service, proc });
    }
    const rows: Row[] = [];
    const once = async (c: (typeof contenders)[number], size: number): Promise<Row> => {
      const rw = new ProcWindow(c.router.pid, detectMethod(c.router.pid));
      const pw = new ProcWindow(c.proc.service.pid, detectMethod(c.proc.service.pid));
      const profile = process.env.AB_PROFILE === '1';
      if (profile) {
        process.kill(c.router.pid, 'SIGUSR2');
        process.kill(c.proc.service.pid, 'SIGUSR2');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const rt0 = threads(c.router.pid);
      const pt0 = threads(c.proc.service.pid);
      const rs0 = stat(c.router.pid);
      const ps0 = stat(c.proc.service.pid);
      const peers = contenders.filter((o) => o !== c).map((o) => o.router.pid);
      const peers0 = peers.reduce((sum, pid) => sum + stat(pid).user + stat(pid).sys, 0);
      const m0 = machineTicks();
      const res = await curlUpload(c.url, 'image', files.get(size)!);
      const m1 = machineTicks();
      const peersMs = peers.reduce((sum, pid) => sum + stat(pid).user + stat(pid).sys, 0) - peers0;
      const rs1 = stat(c.router.pid);
      const ps1 = stat(c.proc.service.pid);
      if (profile) {
        process.kill(c.router.pid, 'SIGUSR2');
        process.kill(c.proc.service.pid, 'SIGUSR2');
      }
      const threadLine = `router[${diff(rt0, threads(c.router.pid))}] processor[${diff(pt0, threads(c.proc.service.pid))}]`;
      const r = rw.close();
      const p = pw.close();
      if (res.status !== 202) throw new Error(`${c.spec.label}: HTTP ${res.status} ${res.body}`);
      const jobId = (JSON.parse(res.body) as { job_id: string }).job_id;
      await settleJob(`http://127.0.0.1:${c.proc.httpPort}`, jobId);
      const fileBytes = fs.statSync(files.get(size)!).size;
      return {
        label: c.spec.label,
        size,
        time: res.timeMs,
        rcpu: r.cpuMs,
        pcpu: p.cpuMs,
        rread: (r.readBytes - fileBytes) / 1024,
        rwrite: (r.writtenBytes - fileBytes) / 1024,
        rpeakGrowthMiB: r.growthKiB / 1024,
        rpeakMiB: r.peakKiB / 1024,
        rsys: rs1.sys - rs0.sys,
        psys: ps1.sys - ps0.sys,
        rflt: rs1.minflt - rs0.minflt,
        pflt: ps1.minflt - ps0.minflt,
        threadLine,
        othersMs: (m1.busy - m0.busy) * 10 - r.cpuMs - p.cpuMs,
        peersMs,
      };
    };
    for (const size of sizes) for (const c of contenders) await once(c, size);
    for (let round = 0; round < runs; round++) {
      for (const size of sizes) {
        for (const c of roundOrder(contenders, round)) {
          const gap = Number(values['gap-ms']);
          if (gap > 0) await new Promise((resolve) => setTimeout(resolve, gap));
          const row = await once(c, size);
          rows.push(row);
          process.stderr.write(
            `[ab] r${round + 1} ${size} MiB ${row.label}: ${row.time.toFixed(0)} ms cpu ${row.rcpu}/${row.pcpu} sys ${row.rsys}/${row.psys} minflt ${row.rflt}/${row.pflt} extra r/w ${row.rread.toFixed(0)}/${row.rwrite.toFixed(0)} KiB ${row.threadLine} others ${row.othersMs} (idle routers ${row.peersMs})\n`,
          );
        }
      }
    }
    const fmt = (xs: number[], d = 0) => {
      const s = summarize(xs);
      return `${s.median.toFixed(d)} (${s.min.toFixed(d)}–${s.max.toFixed(d)})`;
    };
    const lines: string[] = [];
    for (const size of sizes) {
      lines.push(`\n### ${size} MiB, n = ${runs}\n`);
      lines.push(
        '| contender | time to 202 ms | router CPU ms (sys) | processor CPU ms (sys) | minor faults router / processor | router extra read / written KiB | router peak RSS growth MiB | router peak RSS MiB |',
      );
      lines.push('|---|---|---|---|---|---|---|---|');
      for (const c of contenders) {
        const rs = rows.filter((r) => r.size === size && r.label === c.spec.label);
        lines.push(
          `| ${c.spec.label} | ${fmt(
            rs.map((r) => r.time),
            1,
          )} | ${fmt(rs.map((r) => r.rcpu))} (${fmt(rs.map((r) => r.rsys))}) | ${fmt(rs.map((r) => r.pcpu))} (${fmt(rs.map((r) => r.psys))}) | ${fmt(rs.map((r) => r.rflt))} / ${fmt(rs.map((r) => r.pflt))} | ${fmt(rs.map((r) => r.rread))} / ${fmt(rs.map((r) => r.rwrite))} | ${fmt(
            rs.map((r) => r.rpeakGrowthMiB),
            1,
          )} | ${fmt(rs.map((r) => r.rpeakMiB))} |`,
        );
      }
    }
    process.stdout.write(lines.join('\n') + '\n');
    if (values.out) fs.writeFileSync(values.out, JSON.stringify({ specs, rows }, null, 2));
    if (process.env.AB_LOG_DIR) {
      fs.mkdirSync(process.env.AB_LOG_DIR, { recursive: true });
      for (const s of services) fs.writeFileSync(path.join(process.env.AB_LOG_DIR, `${s.label}-${s.pid}.log`), s.logLines.join('\n') + '\n');
    }
  } finally {
    await Promise.all(services.map((s) => s.stop()));
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
    for (const s of services) s.killNow();
    process.exit(1);
  },
);

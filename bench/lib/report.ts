import { Settled } from './client';
import { WindowResult } from './memory';
import { Summary, fixed, median, ratio, spread, summarize } from './stats';

export interface Sample {
  phase: 'warmup' | 'measured';
  /** Round number (0 for the warm-up). */
  round: number;
  /** Position of this upload within its round and size (0 = first). */
  position: number;
  sizeMiB: number;
  fileBytes: number;
  contender: string;
  status: number;
  timeMs: number;
  bytesSent: number;
  jobId?: string;
  job?: Settled;
  router?: WindowResult;
  processor: WindowResult;
  /** CPU during the upload: machine busy/total, the benchmark's own, and what is left for other processes (curl included). */
  cpu: { machineBusyMs: number; machineTotalMs: number; benchMs: number; otherMs: number; otherShare: number };
  loadavg1: number;
  at: string;
}

export interface Row {
  sizeMiB: number;
  contender: string;
  timeMs: Summary;
  vsLegacy: number;
  vsFloor: number;
  routerGrowthMiB: Summary;
  routerPeakMiB: Summary;
  processorGrowthMiB: Summary;
  routerReadMiB: Summary;
  routerWrittenMiB: Summary;
  /** Router bytes read / written beyond the file itself (multipart and HTTP/2/gRPC framing, flow control, answers). */
  routerReadExtraKiB: Summary;
  routerWrittenExtraKiB: Summary;
  otherCpuPercent: Summary;
  routerCpuMs: Summary;
  processorCpuMs: Summary;
}

const toMiB = (kib: number): number => kib / 1024;
const bytesToMiB = (bytes: number): number => bytes / (1024 * 1024);

export function summarizeRows(samples: readonly Sample[], sizes: readonly number[], labels: readonly string[]): Row[] {
  const rows: Row[] = [];
  for (const sizeMiB of sizes) {
    const pick = (label: string) => samples.filter((s) => s.phase === 'measured' && s.sizeMiB === sizeMiB && s.contender === label);
    const medianTime = (label: string) => median(pick(label).map((s) => s.timeMs));
    const legacy = medianTime('legacy');
    const floor = medianTime('floor');
    for (const label of labels) {
      const mine = pick(label);
      if (mine.length === 0) continue;
      const routed = mine.filter((s) => s.router !== undefined);
      const time = summarize(mine.map((s) => s.timeMs));
      rows.push({
        sizeMiB,
        contender: label,
        timeMs: time,
        vsLegacy: time.median / legacy,
        vsFloor: time.median / floor,
        routerGrowthMiB: summarize(routed.map((s) => toMiB(s.router!.growthKiB))),
        routerPeakMiB: summarize(routed.map((s) => toMiB(s.router!.peakKiB))),
        processorGrowthMiB: summarize(mine.map((s) => toMiB(s.processor.growthKiB))),
        routerReadMiB: summarize(routed.map((s) => bytesToMiB(s.router!.readBytes))),
        routerWrittenMiB: summarize(routed.map((s) => bytesToMiB(s.router!.writtenBytes))),
        routerReadExtraKiB: summarize(routed.map((s) => (s.router!.readBytes - s.fileBytes) / 1024)),
        routerWrittenExtraKiB: summarize(routed.map((s) => (s.router!.writtenBytes - s.fileBytes) / 1024)),
        routerCpuMs: summarize(routed.map((s) => s.router!.cpuMs)),
        processorCpuMs: summarize(mine.map((s) => s.processor.cpuMs)),
        otherCpuPercent: summarize(mine.map((s) => s.cpu.otherShare * 100).filter(Number.isFinite)),
      });
    }
  }
  return rows;
}

export function markdownTables(rows: readonly Row[], sizes: readonly number[]): string {
  const out: string[] = [];
  for (const sizeMiB of sizes) {
    const mine = rows.filter((r) => r.sizeMiB === sizeMiB);
    if (mine.length === 0) continue;
    out.push(`### ${sizeMiB} MiB upload (n = ${mine[0].timeMs.n} per contender)`, '');
    out.push(
      "| contender | time to 202, ms: median (min–max) | × legacy | × floor | router peak RSS growth, MiB | router peak RSS, MiB | processor peak RSS growth, MiB | router read / written, MiB [beyond the file, KiB] (median) | CPU ms, router / processor (median) | others' CPU, % of cores |",
    );
    out.push('|---|---|---|---|---|---|---|---|---|---|');
    for (const r of mine) {
      const io = r.routerReadMiB.n
        ? `${fixed(r.routerReadMiB.median, 1)} / ${fixed(r.routerWrittenMiB.median, 1)} [+${fixed(r.routerReadExtraKiB.median, 0)} / +${fixed(r.routerWrittenExtraKiB.median, 0)}]`
        : 'n/a (no router)';
      out.push(
        `| ${r.contender} | ${spread(r.timeMs, 1)} | ${ratio(r.vsLegacy, 1)} | ${ratio(r.vsFloor, 1)} | ${spread(r.routerGrowthMiB, 1)} | ${spread(r.routerPeakMiB, 0)} | ${spread(r.processorGrowthMiB, 1)} | ${io} | ${r.routerCpuMs.n ? fixed(r.routerCpuMs.median, 0) : '–'} / ${fixed(r.processorCpuMs.median, 0)} | ${spread(r.otherCpuPercent, 0)} |`,
      );
    }
    out.push('');
  }
  return out.join('\n');
}

/**
 * Plain-language comparisons, computed from the rows (no typed-in figures). `sameConfigAs` is
 * the sweep label whose settings equal the default "stream" router's, if any.
 */
export function findings(rows: readonly Row[], sizes: readonly number[], sameConfigAs?: string): string[] {
  const lines: string[] = [];
  for (const sizeMiB of sizes) {
    const at = (label: string) => rows.find((r) => r.sizeMiB === sizeMiB && r.contender === label);
    const legacy = at('legacy');
    const stream = at('stream');
    if (legacy && stream) {
      lines.push(
        `- ${sizeMiB} MiB: stream median ${fixed(stream.timeMs.median, 1)} ms vs legacy ${fixed(legacy.timeMs.median, 1)} ms ` +
          `(stream/legacy ${ratio(stream.timeMs.median, legacy.timeMs.median)}); router peak RSS growth stream ` +
          `${fixed(stream.routerGrowthMiB.median, 1)} MiB vs legacy ${fixed(legacy.routerGrowthMiB.median, 1)} MiB ` +
          `(legacy/stream ${ratio(legacy.routerGrowthMiB.median, stream.routerGrowthMiB.median)}).`,
      );
    }
    const sweep = rows.filter((r) => r.sizeMiB === sizeMiB && r.contender.startsWith('stream-'));
    if (sweep.length > 1) {
      const best = [...sweep].sort((a, b) => a.timeMs.median - b.timeMs.median);
      const separated = best[0].timeMs.max < Math.min(...best.slice(1).map((r) => r.timeMs.min));
      lines.push(
        `- ${sizeMiB} MiB chunk sweep, fastest first: ` +
          best.map((r) => `${r.contender} ${fixed(r.timeMs.median, 1)} ms (${fixed(r.timeMs.min, 1)}–${fixed(r.timeMs.max, 1)}; router CPU ${fixed(r.routerCpuMs.median, 0)} ms)`).join(', ') +
          (separated ? `. ${best[0].contender}'s range lies below all the others.` : '. The ranges overlap: the order is not established.'),
      );
    }
    if (sameConfigAs && stream) {
      const twin = at(sameConfigAs);
      if (twin) {
        lines.push(
          `- ${sizeMiB} MiB same configuration in two processes: ${twin.contender}/stream median time ${ratio(twin.timeMs.median, stream.timeMs.median)}, ` +
            `router CPU ${fixed(twin.routerCpuMs.median, 0)} vs ${fixed(stream.routerCpuMs.median, 0)} ms, ` +
            `router bytes written beyond the file ${fixed(twin.routerWrittenExtraKiB.median, 0)} vs ${fixed(stream.routerWrittenExtraKiB.median, 0)} KiB.`,
        );
      }
    }
  }
  return lines;
}

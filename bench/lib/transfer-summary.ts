import { ConcurrencySample } from './concurrency';
import { JobSample } from './job-sample';
import { Summary, median, summarize } from './stats';

const MIB = 1024 * 1024;

export interface TransferRow {
  section: string;
  sizeMiB: number;
  contender: string;
  kind: JobSample['kind'];
  /** Client time to the 202. */
  timeMs: Summary;
  /** Median time ÷ the floor's / legacy's median time at the same size (NaN when absent). */
  vsFloor: number;
  vsLegacy: number;
  /** Time to the 202 plus the wait until the processor had ended the job (fetched and judged the bytes). */
  jobEndMs: Summary;
  /** Bytes the router process read / wrote per job (/proc/<pid>/io rchar / wchar), MiB. */
  routerInMiB: Summary;
  routerOutMiB: Summary;
  /** Bytes through the router's network interface (namespaces only), MiB. */
  linkRxMiB: Summary;
  linkTxMiB: Summary;
  routerGrowthMiB: Summary;
  routerPeakMiB: Summary;
  /** Peak RSS during the job minus the router's lowest resting RSS (see restingKiB). */
  routerAboveRestMiB: Summary;
  processorGrowthMiB: Summary;
  routerCpuMs: Summary;
  /** The router's CPU per MiB of the file (nginx: its worker's). */
  routerCpuMsPerMiB: Summary;
  processorCpuMs: Summary;
  otherCpuPercent: Summary;
  /** Peak RSS growth of the router's first (warm-up) job: a process that had not done this before. */
  coldRouterGrowthMiB?: number;
}

interface Routed {
  router?: { peakKiB: number; rssBeforeKiB: number };
  routerIdleKiB?: number;
}

/**
 * The lowest RSS the router had while resting: right after it started, or just before any of
 * its jobs in the section (warm-up included). Lower than any pre-job RSS, so "peak above
 * rest" is never negative; unlike the growth it counts memory held on from earlier jobs.
 */
export function restingKiB(all: readonly Routed[]): number {
  return Math.min(...all.flatMap((s) => [s.routerIdleKiB ?? Number.POSITIVE_INFINITY, s.router?.rssBeforeKiB ?? Number.POSITIVE_INFINITY]));
}

function aboveRest(all: readonly Routed[], measured: readonly Routed[]): Summary {
  const rest = restingKiB(all);
  return summarize(Number.isFinite(rest) ? measured.map((s) => (s.router!.peakKiB - rest) / 1024) : []);
}

export function transferRows(samples: readonly JobSample[], section: string): TransferRow[] {
  const mine = samples.filter((s) => s.section === section);
  const measured = mine.filter((s) => s.phase === 'measured');
  const sizes = [...new Set(measured.map((s) => s.sizeMiB))];
  const labels = [...new Set(measured.map((s) => s.contender))];
  const rows: TransferRow[] = [];
  for (const sizeMiB of sizes) {
    const pick = (label: string) => measured.filter((s) => s.sizeMiB === sizeMiB && s.contender === label);
    const floor = median(pick('floor').map((s) => s.timeMs));
    const legacy = median(pick('legacy').map((s) => s.timeMs));
    for (const label of labels) {
      const xs = pick(label);
      if (xs.length === 0) continue;
      const routed = xs.filter((s) => s.router);
      const linked = xs.filter((s) => s.routerLink);
      const time = summarize(xs.map((s) => s.timeMs));
      const cold = mine.find((s) => s.phase === 'warmup' && s.sizeMiB === sizeMiB && s.contender === label)?.router;
      rows.push({
        section,
        sizeMiB,
        contender: label,
        kind: xs[0].kind,
        timeMs: time,
        vsFloor: time.median / floor,
        vsLegacy: time.median / legacy,
        jobEndMs: summarize(xs.filter((s) => s.job).map((s) => s.timeMs + s.job!.waitedMs)),
        routerInMiB: summarize(routed.map((s) => s.router!.readBytes / MIB)),
        routerOutMiB: summarize(routed.map((s) => s.router!.writtenBytes / MIB)),
        linkRxMiB: summarize(linked.map((s) => s.routerLink!.rxBytes / MIB)),
        linkTxMiB: summarize(linked.map((s) => s.routerLink!.txBytes / MIB)),
        routerGrowthMiB: summarize(routed.map((s) => s.router!.growthKiB / 1024)),
        routerPeakMiB: summarize(routed.map((s) => s.router!.peakKiB / 1024)),
        routerAboveRestMiB: aboveRest(
          mine.filter((s) => s.contender === label),
          routed,
        ),
        processorGrowthMiB: summarize(xs.map((s) => s.processor.growthKiB / 1024)),
        routerCpuMs: summarize(routed.map((s) => s.router!.cpuMs)),
        routerCpuMsPerMiB: summarize(routed.map((s) => s.router!.cpuMs / (s.fileBytes / MIB))),
        processorCpuMs: summarize(xs.map((s) => s.processor.cpuMs)),
        otherCpuPercent: summarize(xs.map((s) => s.cpu.otherShare * 100).filter(Number.isFinite)),
        coldRouterGrowthMiB: cold ? cold.growthKiB / 1024 : undefined,
      });
    }
  }
  return rows;
}

export interface ConcurrencyRow {
  contender: string;
  uploads: number;
  sizeMiB: number;
  wallMs: Summary;
  vsLegacy: number;
  /** Median over all uploads of all measured bursts. */
  clientMedianMs: number;
  routerGrowthMiB: Summary;
  routerPeakMiB: Summary;
  routerAboveRestMiB: Summary;
  processorGrowthMiB: Summary;
  routerCpuMs: Summary;
}

export function concurrencyRows(samples: readonly ConcurrencySample[]): ConcurrencyRow[] {
  const measured = samples.filter((s) => s.phase === 'measured');
  const labels = [...new Set(measured.map((s) => s.contender))];
  const legacy = median(measured.filter((s) => s.contender === 'legacy').map((s) => s.wallMs));
  return labels.map((contender) => {
    const xs = measured.filter((s) => s.contender === contender);
    const routed = xs.filter((s) => s.router);
    const wall = summarize(xs.map((s) => s.wallMs));
    return {
      contender,
      uploads: xs[0].uploads,
      sizeMiB: xs[0].sizeMiB,
      wallMs: wall,
      vsLegacy: wall.median / legacy,
      clientMedianMs: median(xs.flatMap((s) => s.clientTimesMs)),
      routerGrowthMiB: summarize(routed.map((s) => s.router!.growthKiB / 1024)),
      routerPeakMiB: summarize(routed.map((s) => s.router!.peakKiB / 1024)),
      routerAboveRestMiB: aboveRest(
        samples.filter((s) => s.contender === contender),
        routed,
      ),
      processorGrowthMiB: summarize(xs.map((s) => s.processor.growthKiB / 1024)),
      routerCpuMs: summarize(routed.map((s) => s.router!.cpuMs)),
    };
  });
}

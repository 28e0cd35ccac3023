import { JobSample, measureJob } from './job-sample';
import { roundOrder } from './stats';
import { Contender, TransferStack } from './transfer-stack';

/** One contender at one size. */
export interface Cell {
  contender: Contender;
  sizeMiB: number;
}

/** Every contender at every size: one group per size, the contenders compared within it. */
export function sizeGroups(sizes: readonly number[], contenders: readonly Contender[]): Cell[][] {
  return sizes.map((sizeMiB) => contenders.map((contender) => ({ contender, sizeMiB })));
}

/**
 * Jobs each contender serves with the smallest file before its warm-ups, not recorded. A Node
 * process runs new code in V8's interpreter until it has been called often enough to be
 * compiled; one warm-up job per size left the routers' request path (Express, busboy, grpc-js,
 * the relays) partly cold for the first measured rounds, which weighed on the small sizes and
 * not on nginx. A router in service is warm: this measures it that way.
 */
export const PRIME_JOBS = 20;

export interface RoundsOptions {
  section: string;
  /** Cells compared with each other; each group's order rotates per round (balanced Latin square rows). */
  groups: Cell[][];
  runs: number;
  files: ReadonlyMap<number, string>;
  settleTimeoutMs: number;
  log: (message: string) => void;
  /** Checked before every job; throw to stop (e.g. on SIGINT). */
  check: () => void;
  /** Unrecorded jobs per contender with the smallest file before the warm-ups (PRIME_JOBS; 0 for none). */
  primeJobs?: number;
}

/** `primeJobs` per contender, one warm-up job per cell (neither reported), then `runs` rounds in rotating order. */
export async function runRounds(stack: TransferStack, o: RoundsOptions): Promise<JobSample[]> {
  const samples: JobSample[] = [];
  const once = async (cell: Cell, phase: JobSample['phase'], round: number, position: number): Promise<JobSample> => {
    o.check();
    const file = o.files.get(cell.sizeMiB);
    if (!file) throw new Error(`no test file of ${cell.sizeMiB} MiB`);
    const s = await measureJob(stack, cell.contender, file, cell.sizeMiB, { section: o.section, phase, round, position }, o.settleTimeoutMs);
    samples.push(s);
    return s;
  };
  const primeJobs = o.primeJobs ?? 0;
  const smallest = Math.min(...o.groups.flat().map((cell) => cell.sizeMiB));
  const contenders = [...new Set(o.groups.flat().map((cell) => cell.contender))];
  if (primeJobs > 0) o.log(`${o.section}: priming, ${primeJobs} unrecorded jobs of ${smallest} MiB per contender`);
  for (let n = 0; n < primeJobs; n++) {
    for (const [i, contender] of contenders.entries()) {
      o.check();
      await measureJob(stack, contender, o.files.get(smallest)!, smallest, { section: o.section, phase: 'warmup', round: 0, position: i }, o.settleTimeoutMs);
    }
  }
  o.log(`${o.section}: warm-up, one job per contender and size`);
  for (const group of o.groups) for (const [i, cell] of group.entries()) await once(cell, 'warmup', 0, i);
  for (let round = 1; round <= o.runs; round++) {
    for (const group of o.groups) {
      for (const [i, cell] of roundOrder(group, round - 1).entries()) {
        const s = await once(cell, 'measured', round, i);
        o.log(`${o.section} round ${round}/${o.runs} ${cell.sizeMiB} MiB ${cell.contender.label}: ${s.timeMs.toFixed(1)} ms`);
      }
    }
  }
  return samples;
}

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

/** Priming: `jobs` unrecorded jobs of `sizeMiB` per contender. */
export interface Prime {
  jobs: number;
  sizeMiB: number;
}

/** PRIME_JOBS (or `jobs`) of the smallest of `sizes`. */
export function primeFor(sizes: readonly number[], jobs = PRIME_JOBS): Prime {
  return { jobs, sizeMiB: Math.min(...sizes) };
}

/** How long a job may take to end after its 202 before a loopback run gives up on it. */
const SETTLE_TIMEOUT_MS = 120_000;

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
  /** Unrecorded jobs per contender before the warm-ups (none when absent). */
  prime?: Prime;
}

/** Every contender at every size (`sizeGroups`), on loopback's settle timeout unless given another. */
export function roundsBySize(
  stack: TransferStack,
  o: Omit<RoundsOptions, 'groups' | 'settleTimeoutMs'> & { sizes: readonly number[]; contenders: readonly Contender[]; settleTimeoutMs?: number },
): Promise<JobSample[]> {
  const { sizes, contenders, ...rest } = o;
  return runRounds(stack, { ...rest, groups: sizeGroups(sizes, contenders), settleTimeoutMs: o.settleTimeoutMs ?? SETTLE_TIMEOUT_MS });
}

/** The priming jobs, one warm-up job per cell (neither reported), then `runs` rounds in rotating order. */
export async function runRounds(stack: TransferStack, o: RoundsOptions): Promise<JobSample[]> {
  const samples: JobSample[] = [];
  const job = async (cell: Cell, phase: JobSample['phase'], round: number, position: number): Promise<JobSample> => {
    o.check();
    const file = o.files.get(cell.sizeMiB);
    if (!file) throw new Error(`no test file of ${cell.sizeMiB} MiB`);
    return measureJob(stack, cell.contender, file, cell.sizeMiB, { section: o.section, phase, round, position }, o.settleTimeoutMs);
  };
  const once = async (cell: Cell, phase: JobSample['phase'], round: number, position: number): Promise<JobSample> => {
    const s = await job(cell, phase, round, position);
    samples.push(s);
    return s;
  };
  if (o.prime && o.prime.jobs > 0) {
    const { jobs, sizeMiB } = o.prime;
    const contenders = [...new Set(o.groups.flat().map((cell) => cell.contender))];
    o.log(`${o.section}: priming, ${jobs} unrecorded jobs of ${sizeMiB} MiB per contender`);
    for (let n = 0; n < jobs; n++) for (const [i, contender] of contenders.entries()) await job({ contender, sizeMiB }, 'warmup', 0, i);
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

import os from 'node:os';
import { Settled, settleJob } from './client';
import { CpuShare, checkAlive, cpuShare, jobIdOf, upload } from './job-sample';
import { ProcWindow, WindowResult, machineTicks } from './memory';
import { roundOrder } from './stats';
import { Contender, TransferStack } from './transfer-stack';

export interface ConcurrencySample {
  phase: 'warmup' | 'measured';
  round: number;
  position: number;
  contender: string;
  uploads: number;
  sizeMiB: number;
  /** From launching the first client to the last 202, measured by the benchmark. */
  wallMs: number;
  /** Each client's own time to its 202 (curl %{time_total}). */
  clientTimesMs: number[];
  statuses: number[];
  router?: WindowResult;
  /** The router's RSS when it had just started (before its first job). */
  routerIdleKiB?: number;
  processor: WindowResult;
  cpu: CpuShare;
  jobs: Settled[];
  loadavg1: number;
  at: string;
}

async function burst(stack: TransferStack, c: Contender, file: string, uploads: number, sizeMiB: number, where: Pick<ConcurrencySample, 'phase' | 'round' | 'position'>): Promise<ConcurrencySample> {
  checkAlive(stack);
  const routerWindow = c.router ? new ProcWindow(c.router.pid, c.routerMethod!) : undefined;
  const processorWindow = new ProcWindow(stack.processor.service.pid, stack.processorMethod);
  const machineBefore = machineTicks();
  const selfBefore = process.cpuUsage();
  const started = performance.now();
  const results = await Promise.all(Array.from({ length: uploads }, () => upload(stack, c, file)));
  const wallMs = performance.now() - started;
  const self = process.cpuUsage(selfBefore);
  const machineAfter = machineTicks();
  const router = routerWindow?.close();
  const processor = processorWindow.close();
  const bad = results.filter((r) => r.status !== 202);
  if (bad.length > 0) throw new Error(`${c.label}: ${bad.length} of ${uploads} concurrent uploads got no 202 (e.g. HTTP ${bad[0].status}: ${bad[0].body.slice(0, 300)})`);
  const ids = results.map((r) => jobIdOf(r.body)).filter((id): id is string => id !== undefined);
  const jobs = await Promise.all(ids.map((id) => settleJob(stack.processorUrl, id, 120_000, stack.topology.processorGetter, Math.max(20, stack.topology.settlePollMs))));
  return {
    ...where,
    contender: c.label,
    uploads,
    sizeMiB,
    wallMs,
    clientTimesMs: results.map((r) => r.timeMs),
    statuses: results.map((r) => r.status),
    router,
    routerIdleKiB: c.routerIdleKiB,
    processor,
    cpu: cpuShare(machineBefore, machineAfter, self.user + self.system, (router?.cpuMs ?? 0) + processor.cpuMs),
    jobs,
    loadavg1: os.loadavg()[0],
    at: new Date().toISOString(),
  };
}

/** `uploads` simultaneous uploads of one file per contender; one warm-up burst each, then rotating rounds. */
export async function runConcurrency(
  stack: TransferStack,
  contenders: readonly Contender[],
  o: { runs: number; uploads: number; file: string; sizeMiB: number; log: (m: string) => void; check: () => void },
): Promise<ConcurrencySample[]> {
  const samples: ConcurrencySample[] = [];
  o.log(`concurrency: warm-up, one burst of ${o.uploads} x ${o.sizeMiB} MiB per mode`);
  for (const [i, c] of contenders.entries()) {
    o.check();
    samples.push(await burst(stack, c, o.file, o.uploads, o.sizeMiB, { phase: 'warmup', round: 0, position: i }));
  }
  for (let round = 1; round <= o.runs; round++) {
    for (const [i, c] of roundOrder(contenders, round - 1).entries()) {
      o.check();
      const s = await burst(stack, c, o.file, o.uploads, o.sizeMiB, { phase: 'measured', round, position: i });
      samples.push(s);
      o.log(`concurrency round ${round}/${o.runs} ${c.label}: ${s.wallMs.toFixed(0)} ms, router growth ${s.router ? (s.router.growthKiB / 1024).toFixed(1) : '-'} MiB`);
    }
  }
  return samples;
}

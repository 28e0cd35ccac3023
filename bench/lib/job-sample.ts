import fs from 'node:fs';
import os from 'node:os';
import { Settled, UploadResult, curlUpload, settleJob } from './client';
import { directUpload } from './direct-client';
import { CLK_TCK, ProcWindow, WindowResult, machineTicks } from './memory';
import { isAlive } from './stack';
import { RequestStep } from './steps';
import { LinkCounters } from './topology';
import { Contender, TransferStack } from './transfer-stack';
import { tusUpload } from './tus-client';

export interface CpuShare {
  machineBusyMs: number;
  machineTotalMs: number;
  benchMs: number;
  /** Busy CPU of everything but router, processor and benchmark (curl, the store, other tenants). */
  otherMs: number;
  otherShare: number;
}

export interface JobSample {
  section: string;
  phase: 'warmup' | 'measured';
  round: number;
  position: number;
  contender: string;
  kind: Contender['kind'];
  sizeMiB: number;
  fileBytes: number;
  status: number;
  /** Client-side time until the 202: curl %{time_total} (direct and tus: the sum over their three requests). */
  timeMs: number;
  /** Wall time measured by the benchmark around the client process(es). */
  wallMs: number;
  bytesSent: number;
  steps?: RequestStep[];
  jobId?: string;
  /** The job after the 202, polled until it ended (outside the measured window). */
  job?: Settled;
  router?: WindowResult;
  /** The router's RSS when it had just started (before its first job). */
  routerIdleKiB?: number;
  processor: WindowResult;
  /** Bytes through the router's own network interface during the window (network namespaces only). */
  routerLink?: LinkCounters;
  cpu: CpuShare;
  loadavg1: number;
  at: string;
}

export function jobIdOf(body: string): string | undefined {
  try {
    const parsed = JSON.parse(body) as { job_id?: unknown };
    return typeof parsed.job_id === 'string' ? parsed.job_id : undefined;
  } catch {
    return undefined;
  }
}

export function checkAlive(stack: TransferStack): void {
  for (const s of stack.services) if (!isAlive(s)) throw new Error(`${s.label} (pid ${s.pid}) died; its last lines:\n${s.logLines.slice(-20).join('\n')}`);
}

export function cpuShare(before: { busy: number; total: number }, after: { busy: number; total: number }, benchMicros: number, knownMs: number): CpuShare {
  const tickMs = 1000 / CLK_TCK;
  const machineBusyMs = (after.busy - before.busy) * tickMs;
  const machineTotalMs = (after.total - before.total) * tickMs;
  const benchMs = benchMicros / 1000;
  const otherMs = Math.max(0, machineBusyMs - knownMs - benchMs);
  return { machineBusyMs, machineTotalMs, benchMs, otherMs, otherShare: machineTotalMs > 0 ? otherMs / machineTotalMs : Number.NaN };
}

/** The client's part of one job: one multipart upload with curl, or the three requests of `direct` or of tus. */
export async function upload(stack: TransferStack, c: Contender, file: string): Promise<UploadResult & { wallMs: number; steps?: RequestStep[] }> {
  const host = stack.topology.client;
  if (c.kind === 'direct') return directUpload(c.base, file, host);
  if (c.kind === 'tus') return tusUpload(c.base, file, host);
  const started = performance.now();
  const result = await curlUpload(c.url, c.fileField, file, host);
  return { ...result, wallMs: performance.now() - started };
}

/**
 * One measured job: memory / CPU / I/O windows over the router and the processor around the
 * client's upload, then (outside the window) waits until the processor has ended the job.
 * Throws unless the answer is 202.
 */
export async function measureJob(
  stack: TransferStack,
  c: Contender,
  file: string,
  sizeMiB: number,
  where: { section: string; phase: JobSample['phase']; round: number; position: number },
  settleTimeoutMs: number,
): Promise<JobSample> {
  checkAlive(stack);
  const link = stack.topology.routerLink;
  const linkBefore = link ? await link() : undefined;
  const routerWindow = c.router ? new ProcWindow(c.router.pid, c.routerMethod!) : undefined;
  const processorWindow = new ProcWindow(stack.processor.service.pid, stack.processorMethod);
  const machineBefore = machineTicks();
  const selfBefore = process.cpuUsage();
  const result = await upload(stack, c, file);
  const self = process.cpuUsage(selfBefore);
  const machineAfter = machineTicks();
  const router = routerWindow?.close();
  const processor = processorWindow.close();
  const linkAfter = link ? await link() : undefined;
  if (result.status !== 202) throw new Error(`${c.label} ${sizeMiB} MiB: HTTP ${result.status}, expected 202: ${result.body.slice(0, 500)}`);
  const jobId = jobIdOf(result.body);
  const job = jobId ? await settleJob(stack.processorUrl, jobId, settleTimeoutMs, stack.topology.processorGetter, stack.topology.settlePollMs) : undefined;
  return {
    ...where,
    contender: c.label,
    kind: c.kind,
    sizeMiB,
    fileBytes: fs.statSync(file).size,
    status: result.status,
    timeMs: result.timeMs,
    wallMs: result.wallMs,
    bytesSent: result.bytesSent,
    steps: result.steps,
    jobId,
    job,
    router,
    routerIdleKiB: c.routerIdleKiB,
    processor,
    routerLink: linkBefore && linkAfter ? { rxBytes: linkAfter.rxBytes - linkBefore.rxBytes, txBytes: linkAfter.txBytes - linkBefore.txBytes } : undefined,
    cpu: cpuShare(machineBefore, machineAfter, self.user + self.system, (router?.cpuMs ?? 0) + processor.cpuMs),
    loadavg1: os.loadavg()[0],
    at: new Date().toISOString(),
  };
}

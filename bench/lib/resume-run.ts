import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Settled, UploadResult, curlUpload, settleJob } from './client';
import { checkAlive, jobIdOf } from './job-sample';
import { Summary, roundOrder, summarize } from './stats';
import { RequestStep } from './steps';
import { Contender, TransferStack } from './transfer-stack';
import { tusBeforeCut, tusResume } from './tus-client';

/** Where the upload is cut: this share of the file's bytes has arrived. */
export const CUT_FRACTION = 0.5;

/**
 * `resume`: the rest of a tus upload from the offset the server has (HEAD, PATCH of the rest,
 * POST /protect); `restart`: the whole file again as one multipart POST /protect to a
 * `stream` router, what a client on a path that cannot resume does.
 */
export type ResumeWay = 'resume' | 'restart';

export interface ResumeSample {
  phase: 'warmup' | 'measured';
  round: number;
  position: number;
  way: ResumeWay;
  /** The router's label (its contender in the transfer stack). */
  router: string;
  sizeMiB: number;
  fileBytes: number;
  cutBytes: number;
  /** tus only: creation and the PATCH of the bytes before the cut; not part of the comparison. */
  beforeCut?: { timeMs: number; bytesSent: number; steps: RequestStep[] };
  status: number;
  /** After the cut, until the 202: curl %{time_total} (resume: the sum over its three requests). */
  timeMs: number;
  /** After the cut: curl %{size_upload}, summed (multipart framing included for the restart). */
  bytesSent: number;
  /** Wall time around the client processes after the cut, spawning included. */
  wallMs: number;
  steps?: RequestStep[];
  jobId?: string;
  job?: Settled;
  loadavg1: number;
  at: string;
}

export interface ResumeWaySummary {
  way: ResumeWay;
  router: string;
  timeMs: Summary;
  bytesSent: Summary;
}

export interface ResumeSection {
  sizeMiB: number;
  fileBytes: number;
  cutFraction: number;
  cutBytes: number;
  runs: number;
  samples: ResumeSample[];
  resume: ResumeWaySummary & { beforeCutMs: Summary; beforeCutBytes: Summary };
  restart: ResumeWaySummary;
  /** Medians, resume ÷ restart. */
  timeRatio: number;
  bytesRatio: number;
}

/** Copies bytes [from, to) of `source` into a new file `target`, in blocks. */
function writeSlice(source: string, target: string, from: number, to: number): void {
  const input = fs.openSync(source, 'r');
  const output = fs.openSync(target, 'w');
  try {
    const block = Buffer.allocUnsafe(4 * 1024 * 1024);
    for (let at = from; at < to;) {
      const n = fs.readSync(input, block, 0, Math.min(block.length, to - at), at);
      if (n <= 0) throw new Error(`${source}: ended at ${at} of ${to} bytes`);
      fs.writeSync(output, block, 0, n);
      at += n;
    }
  } finally {
    fs.closeSync(input);
    fs.closeSync(output);
  }
}

/**
 * What finishing an upload cut at CUT_FRACTION costs: resuming it through tus, against
 * starting over on a path that cannot resume (one multipart upload to `stream`). One warm-up
 * of each (not reported), then `runs` rounds alternating which goes first. The two parts of
 * the file are files of their own (written here, next to `file`), so curl streams each from
 * disk. Each job is waited for (outside the timing) until the processor has ended it.
 */
export async function runResume(
  stack: TransferStack,
  o: { tus: Contender; restart: Contender; file: string; sizeMiB: number; runs: number; settleTimeoutMs: number; log: (m: string) => void; check: () => void },
): Promise<ResumeSection> {
  const fileBytes = fs.statSync(o.file).size;
  const cutBytes = Math.floor(fileBytes * CUT_FRACTION);
  const dir = path.dirname(o.file);
  const before = path.join(dir, `bench-resume-${o.sizeMiB}MiB-before-cut.bin`);
  const after = path.join(dir, `bench-resume-${o.sizeMiB}MiB-after-cut.bin`);
  writeSlice(o.file, before, 0, cutBytes);
  writeSlice(o.file, after, cutBytes, fileBytes);
  const host = stack.topology.client;
  const samples: ResumeSample[] = [];
  try {
    const once = async (way: ResumeWay, phase: ResumeSample['phase'], round: number, position: number): Promise<ResumeSample> => {
      o.check();
      checkAlive(stack);
      const router = way === 'resume' ? o.tus : o.restart;
      let beforeCut: ResumeSample['beforeCut'];
      let result: UploadResult & { wallMs: number; steps?: RequestStep[] };
      if (way === 'resume') {
        const cut = await tusBeforeCut(o.tus.base, before, fileBytes, path.basename(o.file), host);
        if (!cut.location) throw new Error(`resume ${o.sizeMiB} MiB before the cut: HTTP ${cut.result.status}: ${cut.result.body.slice(0, 500)}`);
        beforeCut = { timeMs: cut.result.timeMs, bytesSent: cut.result.bytesSent, steps: cut.result.steps };
        result = await tusResume(o.tus.base, cut.location, after, cutBytes, host);
      } else {
        const started = performance.now();
        const res = await curlUpload(o.restart.url, o.restart.fileField, o.file, host);
        result = { ...res, wallMs: performance.now() - started };
      }
      if (result.status !== 202) throw new Error(`${way} ${o.sizeMiB} MiB (${router.label}): HTTP ${result.status}, expected 202: ${result.body.slice(0, 500)}`);
      const jobId = jobIdOf(result.body);
      const job = jobId ? await settleJob(stack.processorUrl, jobId, o.settleTimeoutMs, stack.topology.processorGetter, stack.topology.settlePollMs) : undefined;
      const sample: ResumeSample = {
        phase,
        round,
        position,
        way,
        router: router.label,
        sizeMiB: o.sizeMiB,
        fileBytes,
        cutBytes,
        beforeCut,
        status: result.status,
        timeMs: result.timeMs,
        bytesSent: result.bytesSent,
        wallMs: result.wallMs,
        steps: result.steps,
        jobId,
        job,
        loadavg1: os.loadavg()[0],
        at: new Date().toISOString(),
      };
      samples.push(sample);
      return sample;
    };
    const ways: ResumeWay[] = ['resume', 'restart'];
    o.log(`resume: ${o.sizeMiB} MiB cut at ${cutBytes} bytes; warm-up, one of each`);
    for (const [i, way] of ways.entries()) await once(way, 'warmup', 0, i);
    for (let round = 1; round <= o.runs; round++) {
      for (const [i, way] of roundOrder(ways, round - 1).entries()) {
        const s = await once(way, 'measured', round, i);
        o.log(`resume round ${round}/${o.runs} ${o.sizeMiB} MiB ${way} (${s.router}): after the cut ${s.timeMs.toFixed(1)} ms, ${s.bytesSent} bytes sent`);
      }
    }
  } finally {
    fs.rmSync(before, { force: true });
    fs.rmSync(after, { force: true });
  }
  return summarizeResume(samples, { sizeMiB: o.sizeMiB, fileBytes, cutBytes, runs: o.runs });
}

export function summarizeResume(samples: ResumeSample[], o: { sizeMiB: number; fileBytes: number; cutBytes: number; runs: number }): ResumeSection {
  const measured = samples.filter((s) => s.phase === 'measured');
  const of = (way: ResumeWay): ResumeWaySummary => {
    const xs = measured.filter((s) => s.way === way);
    return { way, router: xs[0]?.router ?? '', timeMs: summarize(xs.map((s) => s.timeMs)), bytesSent: summarize(xs.map((s) => s.bytesSent)) };
  };
  const cut = measured.filter((s) => s.beforeCut);
  const resume = { ...of('resume'), beforeCutMs: summarize(cut.map((s) => s.beforeCut!.timeMs)), beforeCutBytes: summarize(cut.map((s) => s.beforeCut!.bytesSent)) };
  const restart = of('restart');
  return {
    ...o,
    cutFraction: CUT_FRACTION,
    samples,
    resume,
    restart,
    timeRatio: resume.timeMs.median / restart.timeMs.median,
    bytesRatio: resume.bytesSent.median / restart.bytesSent.median,
  };
}

import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import sharp from 'sharp';
import { HttpJobResult, HttpJobStatus, ProtectionLayer, jobSpecFromFields } from '@artorizer/contract';
import { loadConfig as loadProcessorConfig } from '../../reference-processor/src/config';
import { curl } from './client';
import { CpuShare, cpuShare, jobIdOf } from './job-sample';
import { MemMethod, ProcWindow, WindowResult, detectMethod, machineTicks, readStatus } from './memory';
import { PhotoFile, writePhoto } from './photo';
import { ServiceInfo } from './record';
import { Service, isAlive, startProcessor } from './stack';
import { Summary, roundOrder, summarize } from './stats';

const MIB = 1024 * 1024;
/** How often the benchmark asks the processor whether the job has ended (GET /v1/jobs/:id). */
export const PHOTO_POLL_MS = 25;

/** What the client asks for; everything not named here is the API's default. */
export interface PhotoSpec {
  label: string;
  description: string;
  /** Multipart fields besides artist_name and artwork_title. */
  fields: Record<string, string>;
}

export const PHOTO_SPECS: readonly PhotoSpec[] = [
  { label: 'defaults', description: 'the API defaults: invisible watermark, no LSB layer', fields: {} },
  { label: 'stegano', description: 'enable_stegano_embed=true: invisible watermark, then LSB stegano', fields: { enable_stegano_embed: 'true' } },
];

const BASE_FIELDS = { artist_name: 'Bench', artwork_title: 'Photograph' };

export interface PhotoSample {
  phase: 'warmup' | 'measured';
  round: number;
  position: number;
  spec: string;
  fields: Record<string, string>;
  jobId: string;
  /** curl's time_total of the upload (until the 202). */
  uploadMs: number;
  bytesSent: number;
  /** From the start of the upload until the benchmark saw the job completed (polled every PHOTO_POLL_MS). */
  totalMs: number;
  /** completed_at − submitted_at by the processor's clock: from the upload having arrived to the job's end. */
  processingMs: number;
  /** Status requests made while the job ran, and the longest any of them waited for its answer. */
  polls: number;
  longestPollMs: number;
  /** The processor over the whole job: upload, analysis, protection, encoding, read-back, hashing. */
  processor: WindowResult;
  cpu: CpuShare;
  input: { bytes: number; width: number; height: number; format: string };
  /** The `protected` artifact as downloaded after the job (outside the window), read with sharp. */
  output: { contentType: string; format: string; width: number; height: number; bytes: number; sha256: string };
  layers: { layer: string; status: string; reason: string }[];
  expected: { watermarkText: string; steganoMessage: string };
  verified: { watermarkText: string; steganoMessage: string };
  loadavg1: number;
  at: string;
}

export interface PhotoRow {
  spec: string;
  description: string;
  totalMs: Summary;
  processingMs: Summary;
  uploadMs: Summary;
  processorCpuMs: Summary;
  longestPollMs: Summary;
  growthMiB: Summary;
  /** Peak RSS during the job minus the processor's resting RSS (its lowest: at start-up or before any job). */
  aboveRestMiB: Summary;
  peakMiB: Summary;
  /** aboveRest ÷ one copy of the decoded pixels (width × height × 3 bytes). */
  aboveRestCopies: Summary;
  outputMiB: Summary;
  /** Output bytes ÷ input bytes. */
  outputVsInput: Summary;
  contentTypes: string[];
  /** "8000x6000" for each distinct output size. */
  outputSizes: string[];
  watermarkVerified: number;
  steganoVerified: number;
  steganoExpected: number;
  n: number;
}

export interface PhotoSection {
  photo: Omit<PhotoFile, 'path'>;
  processor: ServiceInfo & { method: MemMethod; idleKiB: number };
  /** The processor's limits as it ran (its defaults: the benchmark does not set them). */
  limits: { maxImageBytes: number; maxImagePixels: number; concurrency: number };
  pollMs: number;
  /** One copy of the decoded pixels, MiB (width × height × 3 bytes). */
  pixelCopyMiB: number;
  /** The processor's lowest RSS while resting: at start-up or before any of its jobs, KiB. */
  restingKiB: number;
  /** The first job into the fresh processor (the first warm-up job). */
  cold: { spec: string; growthMiB: number; aboveRestMiB: number; peakMiB: number };
  samples: PhotoSample[];
  rows: PhotoRow[];
}

export interface PhotoOptions {
  width: number;
  height: number;
  runs: number;
  tempDir: string;
  services: Service[];
  log: (message: string) => void;
  check: () => void;
}

function expectedMarks(fields: Record<string, string>): PhotoSample['expected'] {
  const protection = jobSpecFromFields({ ...BASE_FIELDS, ...fields }).protection!;
  const has = (layer: ProtectionLayer) => protection.includeProtection && protection.layers.includes(layer);
  return {
    watermarkText: has(ProtectionLayer.PROTECTION_LAYER_INVISIBLE_WATERMARK) ? (protection.watermark?.text ?? '') : '',
    steganoMessage: has(ProtectionLayer.PROTECTION_LAYER_STEGANO_EMBED) ? protection.steganoMessage : '',
  };
}

/**
 * A GET on a connection of its own (no keep-alive). While the processor's event loop is busy
 * with synchronous pixel work for longer than its keepAliveTimeout (5 s), it closes an idle
 * kept-alive connection as soon as the loop runs again, possibly with a request already sent
 * on it: the client then sees a reset ("fetch failed"). A fresh connection just waits.
 */
function httpGet(url: string): Promise<{ status: number; contentType: string; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type'] ?? ''), body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

async function getJson<T>(url: string): Promise<T> {
  const res = await httpGet(url);
  const text = res.body.toString('utf8');
  if (res.status !== 200) throw new Error(`GET ${url}: HTTP ${res.status}: ${text.slice(0, 500)}`);
  return JSON.parse(text) as T;
}

/** Polls GET /v1/jobs/:id every PHOTO_POLL_MS until the job has ended; counts the polls and the slowest answer. */
async function waitForEnd(base: string, jobId: string, timeoutMs: number): Promise<{ status: string; reason?: string; polls: number; longestPollMs: number }> {
  const started = performance.now();
  let polls = 0;
  let longestPollMs = 0;
  for (;;) {
    const asked = performance.now();
    const job = await getJson<HttpJobStatus>(`${base}/v1/jobs/${encodeURIComponent(jobId)}`);
    polls++;
    longestPollMs = Math.max(longestPollMs, performance.now() - asked);
    if (job.status === 'completed' || job.status === 'failed' || job.status === 'cancelled') return { status: job.status, reason: job.error?.reason, polls, longestPollMs };
    if (performance.now() - started > timeoutMs) return { status: `still ${job.status} after ${timeoutMs} ms`, polls, longestPollMs };
    await delay(PHOTO_POLL_MS);
  }
}

/** The protected image, downloaded and read (outside the measured window); throws unless it is what the result says. */
async function readOutput(base: string, result: HttpJobResult): Promise<PhotoSample['output']> {
  const artifact = result.artifacts.find((a) => a.variant === 'protected');
  if (!artifact) throw new Error(`job ${result.job_id}: no protected artifact (artifacts: ${result.artifacts.map((a) => a.variant).join(', ')})`);
  const res = await httpGet(`${base}${artifact.url}`);
  if (res.status !== 200) throw new Error(`download of ${artifact.url}: HTTP ${res.status}`);
  const bytes = res.body;
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  if (bytes.length !== artifact.size_bytes || sha256 !== artifact.sha256) {
    throw new Error(`job ${result.job_id}: downloaded ${bytes.length} bytes (sha256 ${sha256}), the result says ${artifact.size_bytes} (sha256 ${artifact.sha256})`);
  }
  const meta = await sharp(bytes).metadata();
  return {
    contentType: res.contentType || artifact.content_type,
    format: meta.format ?? 'unknown',
    width: meta.width ?? Number.NaN,
    height: meta.height ?? Number.NaN,
    bytes: bytes.length,
    sha256,
  };
}

/**
 * One job: the processor's memory / CPU window opens before the upload and closes when the
 * job is seen completed; then, outside it, the result and the protected image are read.
 * Throws (so the run fails instead of printing a wrong figure) unless the job completed, the
 * output has the original's dimensions and every mark asked for was read back.
 */
async function measurePhotoJob(
  processor: { service: Service; method: MemMethod; base: string },
  photo: PhotoFile & { format: string },
  spec: PhotoSpec,
  where: { phase: PhotoSample['phase']; round: number; position: number },
): Promise<PhotoSample> {
  if (!isAlive(processor.service)) throw new Error(`processor (pid ${processor.service.pid}) died; its last lines:\n${processor.service.logLines.slice(-20).join('\n')}`);
  const fields = { ...BASE_FIELDS, ...spec.fields };
  const form = Object.entries(fields).flatMap(([k, v]) => ['-F', `${k}=${v}`]);
  const window = new ProcWindow(processor.service.pid, processor.method);
  const machineBefore = machineTicks();
  const selfBefore = process.cpuUsage();
  const started = performance.now();
  const upload = await curl([...form, '-F', `file=@${photo.path};type=image/jpeg`, `${processor.base}/v1/jobs`]);
  const jobId = upload.status === 202 ? jobIdOf(upload.body) : undefined;
  const settled = jobId ? await waitForEnd(processor.base, jobId, 900_000) : undefined;
  const totalMs = performance.now() - started;
  const self = process.cpuUsage(selfBefore);
  const machineAfter = machineTicks();
  const win = window.close();
  if (!jobId) throw new Error(`${spec.label}: HTTP ${upload.status}, expected 202 with a job_id: ${upload.body.slice(0, 500)}`);
  if (settled?.status !== 'completed') throw new Error(`${spec.label}: job ${jobId} ended ${settled?.status ?? '?'}${settled?.reason ? ` (${settled.reason})` : ''}, expected completed`);

  const status = await getJson<HttpJobStatus>(`${processor.base}/v1/jobs/${encodeURIComponent(jobId)}`);
  const result = await getJson<HttpJobResult>(`${processor.base}/v1/jobs/${encodeURIComponent(jobId)}/result`);
  const output = await readOutput(processor.base, result);
  const expected = expectedMarks(spec.fields);
  const verified = { watermarkText: result.verified.watermark_text ?? '', steganoMessage: result.verified.stegano_message ?? '' };
  const sample: PhotoSample = {
    ...where,
    spec: spec.label,
    fields,
    jobId,
    uploadMs: upload.timeMs,
    bytesSent: upload.bytesSent,
    totalMs,
    processingMs: Date.parse(status.completed_at ?? '') - Date.parse(status.submitted_at ?? ''),
    polls: settled.polls,
    longestPollMs: settled.longestPollMs,
    processor: win,
    cpu: cpuShare(machineBefore, machineAfter, self.user + self.system, win.cpuMs),
    input: { bytes: photo.bytes, width: photo.width, height: photo.height, format: photo.format },
    output,
    layers: result.layers,
    expected,
    verified,
    loadavg1: os.loadavg()[0],
    at: new Date().toISOString(),
  };
  const problems: string[] = [];
  if (output.width !== photo.width || output.height !== photo.height) problems.push(`output is ${output.width}x${output.height}, the original ${photo.width}x${photo.height}`);
  if (!expected.watermarkText) problems.push('the spec asks for no invisible watermark: nothing to verify');
  if (verified.watermarkText !== expected.watermarkText) problems.push(`watermark read back "${verified.watermarkText}", expected "${expected.watermarkText}"`);
  if (verified.steganoMessage !== expected.steganoMessage) problems.push(`stegano message read back "${verified.steganoMessage}", expected "${expected.steganoMessage}"`);
  if (problems.length) throw new Error(`${spec.label}: job ${jobId}: ${problems.join('; ')}`);
  return sample;
}

function restingOf(idleKiB: number, samples: readonly PhotoSample[]): number {
  return Math.min(idleKiB, ...samples.map((s) => s.processor.rssBeforeKiB));
}

export function photoRows(section: Pick<PhotoSection, 'samples' | 'restingKiB' | 'pixelCopyMiB'>): PhotoRow[] {
  const measured = section.samples.filter((s) => s.phase === 'measured');
  return PHOTO_SPECS.flatMap((spec): PhotoRow[] => {
    const xs = measured.filter((s) => s.spec === spec.label);
    if (xs.length === 0) return [];
    const aboveRest = xs.map((s) => (s.processor.peakKiB - section.restingKiB) / 1024);
    return [
      {
        spec: spec.label,
        description: spec.description,
        totalMs: summarize(xs.map((s) => s.totalMs)),
        processingMs: summarize(xs.map((s) => s.processingMs)),
        uploadMs: summarize(xs.map((s) => s.uploadMs)),
        processorCpuMs: summarize(xs.map((s) => s.processor.cpuMs)),
        longestPollMs: summarize(xs.map((s) => s.longestPollMs)),
        growthMiB: summarize(xs.map((s) => s.processor.growthKiB / 1024)),
        aboveRestMiB: summarize(aboveRest),
        peakMiB: summarize(xs.map((s) => s.processor.peakKiB / 1024)),
        aboveRestCopies: summarize(aboveRest.map((m) => m / section.pixelCopyMiB)),
        outputMiB: summarize(xs.map((s) => s.output.bytes / MIB)),
        outputVsInput: summarize(xs.map((s) => s.output.bytes / s.input.bytes)),
        contentTypes: [...new Set(xs.map((s) => s.output.contentType))],
        outputSizes: [...new Set(xs.map((s) => `${s.output.width}x${s.output.height}`))],
        watermarkVerified: xs.filter((s) => s.expected.watermarkText && s.verified.watermarkText === s.expected.watermarkText).length,
        steganoVerified: xs.filter((s) => s.expected.steganoMessage && s.verified.steganoMessage === s.expected.steganoMessage).length,
        steganoExpected: xs.filter((s) => s.expected.steganoMessage).length,
        n: xs.length,
      },
    ];
  });
}

/**
 * The `photo` section: a photograph-like JPEG (bench/lib/photo.ts) through one reference
 * processor of its own, at the processor's defaults; each spec once as a warm-up, then
 * `runs` rounds with the specs alternating. Removes the photograph and the processor's files.
 */
export async function runPhoto(o: PhotoOptions): Promise<PhotoSection> {
  o.log(`photo: generating a ${o.width}x${o.height} photograph`);
  const file = await writePhoto(o.tempDir, o.width, o.height);
  const workDir = path.join(o.tempDir, 'photo-processor-work');
  try {
    const inputFormat = (await sharp(file.path).metadata()).format ?? 'unknown';
    const photo = { ...file, format: inputFormat };
    o.log(`photo: ${path.basename(file.path)}, ${(file.bytes / MIB).toFixed(1)} MiB, made in ${(file.generateMs / 1000).toFixed(1)} s`);
    const env = { WORK_DIR: workDir, SHUTDOWN_GRACE_MS: '0' };
    const started = await startProcessor(env);
    o.services.push(started.service);
    const service = started.service;
    const method = detectMethod(service.pid);
    const idleKiB = readStatus(service.pid).rssKiB;
    const processor = { service, method, base: `http://127.0.0.1:${started.httpPort}` };
    o.log(`photo: processor pid ${service.pid}, HTTP ${started.httpPort}, memory via ${method}, resting RSS ${(idleKiB / 1024).toFixed(0)} MiB`);
    // what the processor read: this environment, ours under it (startProcessor passes process.env on)
    const limits = loadProcessorConfig({ ...process.env, ...env });

    const samples: PhotoSample[] = [];
    const once = async (spec: PhotoSpec, phase: PhotoSample['phase'], round: number, position: number): Promise<void> => {
      o.check();
      const s = await measurePhotoJob(processor, photo, spec, { phase, round, position });
      samples.push(s);
      o.log(
        `photo ${phase === 'warmup' ? 'warm-up' : `round ${round}/${o.runs}`} ${spec.label}: ${(s.totalMs / 1000).toFixed(2)} s, processor CPU ${(s.processor.cpuMs / 1000).toFixed(1)} s, longest status wait ${(s.longestPollMs / 1000).toFixed(2)} s, ` +
          `peak RSS ${(s.processor.peakKiB / 1024).toFixed(0)} MiB (+${(s.processor.growthKiB / 1024).toFixed(0)}), ${s.output.contentType} ${s.output.width}x${s.output.height} ${(s.output.bytes / MIB).toFixed(1)} MiB`,
      );
    };
    for (const [i, spec] of PHOTO_SPECS.entries()) await once(spec, 'warmup', 0, i);
    for (let round = 1; round <= o.runs; round++) {
      for (const [i, spec] of roundOrder(PHOTO_SPECS, round - 1).entries()) await once(spec, 'measured', round, i);
    }

    const pixelCopyMiB = (photo.width * photo.height * 3) / MIB;
    const restingKiB = restingOf(idleKiB, samples);
    const first = samples[0];
    const section = {
      photo: { width: file.width, height: file.height, bytes: file.bytes, generateMs: file.generateMs, recipe: file.recipe },
      processor: { label: 'processor', pid: service.pid, command: service.command, env, method, idleKiB },
      limits: { maxImageBytes: limits.maxImageBytes, maxImagePixels: limits.maxImagePixels, concurrency: limits.concurrency },
      pollMs: PHOTO_POLL_MS,
      pixelCopyMiB,
      restingKiB,
      cold: { spec: first.spec, growthMiB: first.processor.growthKiB / 1024, aboveRestMiB: (first.processor.peakKiB - restingKiB) / 1024, peakMiB: first.processor.peakKiB / 1024 },
      samples,
    };
    return { ...section, rows: photoRows(section) };
  } finally {
    await Promise.all(o.services.map((s) => s.stop()));
    fs.rmSync(file.path, { force: true });
    fs.rmSync(workDir, { recursive: true, force: true });
  }
}

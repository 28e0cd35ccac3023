import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileError } from './download';
import { CliError, Subject, asCliError, tooLarge } from './errors';
import { JobStatus, watchJob } from './events';
import { EXIT, ExitCode, worst } from './exit-codes';
import { SubmitOptions, checkLimits, checkOptions, submitFields } from './fields';
import { baseName, declaredType, formatSeconds } from './format';
import { Connection, authHeaders, requestJson } from './http';
import { RouterInfo, routerInfo } from './info';
import { Output, errorData } from './output';
import { mapPool } from './pool';
import { Display, FileProgress } from './progress';
import { JobResult, hasProtected, layerSummary, noProtectedReason, saveOutputs } from './results';
import { multipartSubmit } from './upload-multipart';
import { LocalFile, tusUpload } from './upload-tus';

export interface ProtectOptions extends SubmitOptions {
  wait: boolean;
  out?: string;
  concurrency: number;
  /** Each job as soon as it is submitted (so that an interrupted run can still name them). */
  onSubmitted?: (file: string, jobId: string) => void;
}

/** How one file went. */
interface Outcome {
  exitCode: ExitCode;
  text?: string;
  data: Record<string, unknown>;
}

/** Output names that do not collide: two "art.png" from different folders become "art" and "art-2". */
function outputNames(files: string[]): string[] {
  const used = new Map<string, number>();
  return files.map((file) => {
    const base = baseName(file);
    const count = (used.get(base) ?? 0) + 1;
    used.set(base, count);
    return count === 1 ? base : `${base}-${count}`;
  });
}

/** A local file, checked before anything is sent: it exists, is a file, and is within the router's limit. */
function localFile(file: string, info: RouterInfo): LocalFile {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch (err) {
    throw fileError(err, file, 'read');
  }
  if (!stat.isFile()) throw new CliError(`${file}: cannot read (${stat.isDirectory() ? 'it is a folder' : 'not a regular file'})`, EXIT.usage);
  try {
    fs.accessSync(file, fs.constants.R_OK);
  } catch (err) {
    throw fileError(err, file, 'read');
  }
  const name = path.basename(file);
  if (info.max_file_bytes !== undefined && stat.size > info.max_file_bytes) throw tooLarge({ label: name, fileBytes: stat.size, maxFileBytes: info.max_file_bytes });
  return { path: file, name, size: stat.size, type: declaredType(file) };
}

/** tus termination of an upload that will not be submitted (best effort: it expires anyway). */
async function terminateUpload(conn: Connection, uploadUrl: string): Promise<void> {
  await fetch(uploadUrl, { method: 'DELETE', headers: { ...authHeaders(conn), 'Tus-Resumable': '1.0.0' }, signal: AbortSignal.timeout(conn.timeoutMs) }).catch(() => undefined);
}

/** Uploads one file the way the router offers (tus when it can resume, else multipart) and submits it; the job's id. */
async function submit(
  conn: Connection,
  info: RouterInfo,
  local: LocalFile,
  fields: Record<string, string>,
  subject: Subject,
  progress: FileProgress,
  display: Display,
): Promise<{ jobId: string; how: string }> {
  const onWait = (seconds: number, error: CliError) => {
    progress.note(`waiting ${formatSeconds(seconds)}: ${error.message}`);
    display.message(`${local.name}: ${error.message}; asking again in ${formatSeconds(seconds)}`);
  };
  if (info.uploads.resumable) {
    const how = 'resumable';
    const uploadUrl = await tusUpload(conn, info.uploads.resumable, local, subject, { onProgress: (sent, total) => progress.uploading(sent, total, how), onWait });
    progress.phase('submitting');
    try {
      const job = await requestJson<{ job_id: string }>(conn, info.uploads.multipart, { method: 'POST', json: { ...fields, upload_id: uploadUrl }, subject, onWait });
      return { jobId: job.job_id, how };
    } catch (err) {
      // refused: the finished upload would wait in the store until it expires; end it now
      if (err instanceof CliError && err.exitCode === EXIT.refused && err.details.status !== 409) await terminateUpload(conn, uploadUrl);
      throw err;
    }
  }
  const how = 'multipart';
  progress.uploading(0, local.size, how);
  const job = await multipartSubmit(conn, info.uploads.multipart, fields, local, subject, { onProgress: (sent, total) => progress.uploading(sent, total, how), onWait });
  return { jobId: job.job_id, how };
}

/** With --wait: follows a submitted job to its end, reads its result and, with --out, saves what it made. */
async function followJob(
  conn: Connection,
  jobId: string,
  name: string,
  outName: string,
  options: ProtectOptions,
  progress: FileProgress,
  display: Display,
  base: Record<string, unknown>,
): Promise<Outcome> {
  progress.processing({ job_id: jobId, status: 'queued', progress: { stage: 'queued', current_step: '', step_number: 0, total_steps: 0, percentage: 0 } });
  const final: JobStatus = await watchJob(conn, jobId, {
    reachedBefore: true,
    onStatus: (status) => progress.processing(status),
    onReconnect: (n) => progress.note(`progress stream dropped; reconnecting (${n})`),
  });
  if (final.status !== 'completed') {
    const why = final.error ? `: ${final.error.message}${final.error.reason ? ` (${final.error.reason})` : ''}` : '';
    progress.finish(final.status, false);
    const message = `${name}: job ${jobId} ${final.status}${why}`;
    display.message(message);
    return { exitCode: EXIT.jobFailed, data: { ...base, status: final.status, error: { message, exit_code: EXIT.jobFailed, reason: final.error?.reason } } };
  }
  const result = await requestJson<JobResult>(conn, `/jobs/${encodeURIComponent(jobId)}/result`, { subject: { label: `job ${jobId}`, jobId } });
  const data: Record<string, unknown> = {
    ...base,
    status: 'completed',
    image: result.analysis?.image ? { width: result.analysis.image.width, height: result.analysis.image.height, format: result.analysis.image.format } : undefined,
    layers: result.layers,
    verified: result.verified,
  };
  let saved = '';
  if (options.out) {
    progress.phase('saving');
    const paths = await saveOutputs(conn, jobId, result, options.out, outName);
    data.saved = paths;
    saved = `  -> ${[paths.protected, paths.analysis].filter(Boolean).join(', ')}`;
  }
  const layers = layerSummary(result);
  const text = `${name}  job ${jobId}  completed${saved}${layers ? `\n  layers ${layers}` : ''}`;
  if (!hasProtected(result)) {
    // the job ran, but there is no protected image to use: a failure for whoever wanted one
    const message = `${name}: job ${jobId} completed without a protected image (${noProtectedReason(result)})`;
    progress.finish('completed without a protected image', false);
    display.message(message);
    return { exitCode: EXIT.jobFailed, text, data: { ...data, error: { message, exit_code: EXIT.jobFailed } } };
  }
  progress.finish(options.out ? 'completed, saved' : 'completed', true);
  return { exitCode: EXIT.ok, text, data };
}

async function protectOne(conn: Connection, info: RouterInfo, file: string, outName: string, options: ProtectOptions, display: Display): Promise<Outcome> {
  const name = path.basename(file);
  const base: Record<string, unknown> = { file };
  let progress: FileProgress | undefined;
  let jobId: string | undefined;
  let how: string | undefined;
  try {
    const local = localFile(file, info);
    progress = display.file(name);
    const subject: Subject = { label: name, withKey: Boolean(conn.apiKey), fileBytes: local.size, maxFileBytes: info.max_file_bytes, acceptedTypes: info.accepted_types };
    const fields = submitFields(options, baseName(file), info, randomUUID());
    checkLimits(fields, info, name);
    ({ jobId, how } = await submit(conn, info, local, fields, subject, progress, display));
    Object.assign(base, { job_id: jobId, upload: how });
    options.onSubmitted?.(file, jobId);
    if (!options.wait) {
      progress.finish('submitted', true);
      return { exitCode: EXIT.ok, text: `${name}  job ${jobId}  queued`, data: { ...base, status: 'queued' } };
    }
    return await followJob(conn, jobId, name, outName, options, progress, display, base);
  } catch (err) {
    const error = asCliError(err, conn.url);
    progress?.finish(`failed: ${error.message.replace(`${name}: `, '')}`, false);
    display.message(jobId && !error.message.startsWith(name) ? `${name} (job ${jobId}): ${error.message}` : error.message);
    return { exitCode: error.exitCode, data: { ...base, ...(jobId ? { job_id: jobId, upload: how } : {}), status: 'error', error: errorData(error) } };
  }
}

/**
 * `artorizer protect FILE...`: asks the router what it offers, then uploads and submits each
 * file (at most `concurrency` at once), and with --wait follows each job to its end and with
 * --out saves its protected image and analysis. Every file is attempted; the worst exit code.
 */
export async function protectFiles(conn: Connection, files: string[], options: ProtectOptions, display: Display, output: Output): Promise<ExitCode> {
  let info: RouterInfo;
  try {
    info = await routerInfo(conn);
    if (info.api_key_required && !conn.apiKey) {
      throw new CliError('the router wants an API key: pass --api-key KEY or set ARTORIZER_API_KEY (`make api-key NAME=you` creates one)', EXIT.auth);
    }
    checkOptions(options, info);
    if (options.out) {
      try {
        fs.mkdirSync(options.out, { recursive: true });
      } catch (err) {
        throw fileError(err, options.out, 'create the folder');
      }
    }
  } catch (err) {
    // nothing can be sent: every file has the same answer, told once
    const error = asCliError(err, conn.url);
    display.message(error.message);
    if (output.json) for (const file of files) output.result(undefined, { file, status: 'error', error: errorData(error) });
    return error.exitCode;
  }
  const names = outputNames(files);
  let code: ExitCode = EXIT.ok;
  const outcomes = await mapPool(files, options.concurrency, async (file, index) => {
    const outcome = await protectOne(conn, info, file, names[index], options, display);
    code = worst(code, outcome.exitCode);
    // without bars, each result as soon as it is known; with bars, after them (they share the terminal)
    if (output.json || !display.live) output.result(outcome.text, outcome.data);
    return outcome;
  });
  display.stop();
  if (!output.json && display.live) for (const outcome of outcomes) output.result(outcome.text, outcome.data);
  if (!output.json && files.length > 1) {
    const words: Record<string, string> = { completed: 'completed', queued: 'submitted', failed: 'failed', cancelled: 'cancelled', error: 'not done' };
    const counts = Object.keys(words)
      .map((status) => [words[status], outcomes.filter((o) => o.data.status === status).length] as const)
      .filter(([, n]) => n > 0);
    process.stderr.write(`${files.length} files: ${counts.map(([word, n]) => `${n} ${word}`).join(', ')}\n`);
  }
  return code;
}

import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fetchArtifact, saveArtifact } from './download';
import { CliError } from './errors';
import { JobStatus, watchJob } from './events';
import { EXIT, ExitCode } from './exit-codes';
import { extensionFor, formatBytes } from './format';
import { Connection, requestJson } from './http';
import { Output } from './output';
import { Display, describeStatus } from './progress';

const jobPath = (id: string) => `/jobs/${encodeURIComponent(id)}`;
const subjectOf = (id: string) => ({ label: `job ${id}`, jobId: id });

/** The exit code a job's state means: 1 for failed or cancelled, else 0. */
export function stateCode(status: JobStatus): ExitCode {
  return status.status === 'failed' || status.status === 'cancelled' ? EXIT.jobFailed : EXIT.ok;
}

/** "job 6f1c…  processing: protecting (3/4) 50%", and the error of a failed job. */
function statusLine(status: JobStatus): string {
  const percent = status.status === 'processing' && status.progress ? ` ${Math.round(status.progress.percentage)}%` : '';
  const error = status.error ? `\n  error: ${status.error.message}${status.error.reason ? ` (${status.error.reason})` : ''}` : '';
  return `job ${status.job_id}  ${describeStatus(status)}${percent}${error}`;
}

/** `artorizer status ID`: the job's status once. */
export async function statusCommand(conn: Connection, id: string, output: Output): Promise<ExitCode> {
  const status = await requestJson<JobStatus>(conn, jobPath(id), { subject: subjectOf(id) });
  output.result(statusLine(status), status as unknown as Record<string, unknown>);
  return stateCode(status);
}

/** `artorizer watch ID`: follows the job's events to its end, with a bar on a terminal. */
export async function watchCommand(conn: Connection, id: string, output: Output, display: Display): Promise<ExitCode> {
  const progress = display.file(`job ${id.slice(0, 8)}`);
  try {
    const final = await watchJob(conn, id, {
      onStatus: (status) => progress.processing(status),
      onReconnect: (n) => progress.note(`progress stream dropped; reconnecting (${n})`),
    });
    progress.finish(final.status, final.status === 'completed');
    display.stop(); // the bar's last state first, then the result
    output.result(statusLine(final), final as unknown as Record<string, unknown>);
    return stateCode(final);
  } finally {
    display.stop();
  }
}

/** `artorizer cancel ID`: cancels the job; a job that has already ended is a conflict (exit 3). */
export async function cancelCommand(conn: Connection, id: string, output: Output): Promise<ExitCode> {
  let status: JobStatus;
  try {
    status = await requestJson<JobStatus>(conn, jobPath(id), { method: 'DELETE', subject: subjectOf(id) });
  } catch (err) {
    if (err instanceof CliError && err.details.status === 409) {
      const now = await requestJson<JobStatus>(conn, jobPath(id), { subject: subjectOf(id) }).catch(() => undefined);
      throw new CliError(
        now
          ? `job ${id} has already ${now.status === 'cancelled' ? 'been cancelled' : now.status === 'failed' ? 'failed' : now.status === 'completed' ? 'completed' : `ended (${now.status})`}; nothing to cancel`
          : err.message,
        EXIT.refused,
        err.details,
      );
    }
    throw err;
  }
  output.result(statusLine(status), status as unknown as Record<string, unknown>);
  return EXIT.ok;
}

/** Where a download goes: "-" is stdout; an existing folder (or a path ending in /) gets the router's file name. */
function targetPath(requested: string | undefined, suggested: string): string {
  if (!requested) return suggested;
  if (requested.endsWith('/') || requested.endsWith(path.sep) || (fs.existsSync(requested) && fs.statSync(requested).isDirectory())) {
    fs.mkdirSync(requested, { recursive: true });
    return path.join(requested, suggested);
  }
  return requested;
}

/** `artorizer download ID VARIANT [-o PATH]`: saves one of the job's artifacts (following the router's redirect to its store). */
export async function downloadCommand(conn: Connection, id: string, variant: string, outPath: string | undefined, output: Output): Promise<ExitCode> {
  if (outPath === '-' && output.json) throw new CliError('--json and -o - both want stdout: give -o a file name', EXIT.usage);
  const artifact = await fetchArtifact(conn, id, variant);
  const contentType = artifact.contentType.split(';')[0].trim();
  if (outPath === '-') {
    await pipeline(Readable.fromWeb(artifact.body as Parameters<typeof Readable.fromWeb>[0]), process.stdout);
    return EXIT.ok;
  }
  const file = targetPath(outPath, artifact.suggestedName ?? `${id}-${variant}.${extensionFor(contentType)}`);
  const bytes = await saveArtifact(artifact, file);
  output.result(`saved ${file} (${contentType}, ${formatBytes(bytes)})`, { job_id: id, variant, path: file, bytes, content_type: contentType });
  return EXIT.ok;
}

import { execFile } from 'node:child_process';
import { setTimeout as delay } from 'node:timers/promises';
import { Host, LOCAL, wrapped } from './host';

export interface UploadResult {
  status: number;
  /** curl's %{time_total}: from the start of the request until the response (the 202) has arrived. */
  timeMs: number;
  /** curl's %{size_upload}: bytes of request body sent (multipart framing included). */
  bytesSent: number;
  body: string;
}

/** One curl request (a separate process) on `host`: status, curl's %{time_total} and %{size_upload}, body. */
export function curl(args: readonly string[], host: Host = LOCAL): Promise<UploadResult> {
  const full = ['-s', '-S', '--max-time', '600', '-o', '-', '-w', '\n%{http_code} %{time_total} %{size_upload}', ...args];
  const [file, argv] = wrapped(host, 'curl', full);
  return new Promise((resolve, reject) => {
    execFile(file, argv, { maxBuffer: 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) {
        reject(new Error(`curl ${args[args.length - 1]} failed: ${err.message} ${stderr}`));
        return;
      }
      const cut = stdout.lastIndexOf('\n');
      const [code, total, sent] = stdout
        .slice(cut + 1)
        .trim()
        .split(' ');
      resolve({ status: Number(code), timeMs: Number(total) * 1000, bytesSent: Number(sent), body: stdout.slice(0, cut) });
    });
  });
}

/**
 * One upload with curl, a separate process, so every contender gets the same client and the
 * client's CPU is outside the Node processes being measured. Metadata fields go BEFORE the
 * file (curl sends -F parts in order), so the stream router can open SubmitJob at once
 * instead of spooling the file while it waits for the metadata.
 */
export function curlUpload(url: string, fileField: string, file: string, host: Host = LOCAL): Promise<UploadResult> {
  return curl(['-F', 'artist_name=Bench', '-F', 'artwork_title=Run', '-F', `${fileField}=@${file}`, url], host);
}

export function curlVersion(): Promise<string> {
  return new Promise((resolve) => {
    execFile('curl', ['--version'], (err, stdout) => resolve(err ? 'unknown' : stdout.split(' ').slice(0, 2).join(' ')));
  });
}

export interface Settled {
  status: string;
  reason?: string;
  waitedMs: number;
}

/** GET of a processor URL: its HTTP status and body text. */
export type Getter = (url: string) => Promise<{ status: number; body: string }>;

export const fetchGetter: Getter = async (url) => {
  const res = await fetch(url);
  return { status: res.status, body: await res.text() };
};

/** A getter that runs curl on `host` (a network namespace the benchmark process is not in). */
export function curlGetter(host: Host): Getter {
  return async (url) => {
    const res = await curl([url], host);
    return { status: res.status, body: res.body };
  };
}

/**
 * Waits (outside the measured window) until the processor has finished the accepted job, so
 * the next upload does not share the CPU with the previous job's processing. Polls the
 * processor's own HTTP API every `pollMs` (5 ms by default).
 */
export async function settleJob(processorHttpUrl: string, jobId: string, timeoutMs = 30_000, get: Getter = fetchGetter, pollMs = 5): Promise<Settled> {
  const started = performance.now();
  for (;;) {
    const res = await get(`${processorHttpUrl}/v1/jobs/${encodeURIComponent(jobId)}`);
    let body: { status?: string; error?: { reason?: string } } = {};
    try {
      body = JSON.parse(res.body) as typeof body;
    } catch {
      // not JSON: judged by the HTTP status below
    }
    const status = body.status ?? `http-${res.status}`;
    if (status === 'failed' || status === 'completed' || status === 'cancelled' || res.status === 404) {
      return { status, reason: body.error?.reason, waitedMs: performance.now() - started };
    }
    if (performance.now() - started > timeoutMs) return { status: `still ${status}`, waitedMs: performance.now() - started };
    await delay(pollMs);
  }
}

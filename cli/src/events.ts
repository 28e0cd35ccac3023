import { CliError } from './errors';
import { EXIT } from './exit-codes';
import { Connection, request, requestJson } from './http';
import { sleep } from './retry';

/** A job's status as the router reports it (GET /jobs/:id, and each event's data). */
export interface JobStatus {
  job_id: string;
  status: 'queued' | 'processing' | 'completed' | 'failed' | 'cancelled' | string;
  progress: { stage: string; current_step: string; step_number: number; total_steps: number; percentage: number };
  submitted_at?: string;
  updated_at?: string;
  completed_at?: string;
  error?: { reason: string; message: string };
}

export const TERMINAL = new Set(['completed', 'failed', 'cancelled']);

/** One server-sent event. */
export interface SseEvent {
  event: string;
  data: string;
  id?: string;
  retry?: number;
}

/**
 * Splits a text/event-stream into events (the WHATWG parsing rules: `field: value` lines,
 * comments, CR/LF/CRLF line ends, multi-line data, a blank line dispatching).
 */
export async function* parseSse(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<SseEvent> {
  const decoder = new TextDecoder();
  let buffer = '';
  let event = '';
  let data: string[] = [];
  let id: string | undefined;
  let retry: number | undefined;
  const line = function* (text: string): Generator<SseEvent> {
    if (text === '') {
      if (data.length > 0 || id !== undefined || retry !== undefined) yield { event: event || 'message', data: data.join('\n'), id, retry };
      event = '';
      data = [];
      id = undefined;
      retry = undefined;
      return;
    }
    if (text.startsWith(':')) return;
    const colon = text.indexOf(':');
    const field = colon === -1 ? text : text.slice(0, colon);
    let value = colon === -1 ? '' : text.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
    else if (field === 'id' && !value.includes('\0')) id = value;
    else if (field === 'retry' && /^\d+$/.test(value)) retry = Number(value);
  };
  for await (const chunk of chunks) {
    buffer += decoder.decode(chunk, { stream: true });
    let end: number;
    while ((end = buffer.search(/\r\n|\r|\n/)) !== -1) {
      // a lone CR at the end of the buffer may be the first half of a CRLF
      if (buffer[end] === '\r' && end === buffer.length - 1) break;
      const text = buffer.slice(0, end);
      buffer = buffer.slice(end + (buffer.startsWith('\r\n', end) ? 2 : 1));
      yield* line(text);
    }
  }
}

/** Resolves or rejects the body's chunks as they come, aborting when none arrives for `idleMs`. */
async function* withIdleTimeout(body: AsyncIterable<Uint8Array>, idleMs: number, abort: AbortController): AsyncGenerator<Uint8Array> {
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => abort.abort(new Error('idle')), idleMs);
  };
  arm();
  try {
    for await (const chunk of body) {
      arm();
      yield chunk;
    }
  } finally {
    clearTimeout(timer);
  }
}

export interface WatchOptions {
  /** Each status the router reports on the way (event: progress). */
  onStatus?: (status: JobStatus) => void;
  /** The stream dropped and is being opened again. */
  onReconnect?: (attempt: number) => void;
  /** No byte for this long (the router sends a comment every 15 s) means the stream is dead. */
  idleMs?: number;
  /** The router has answered for this job before (so a failed first opening is a drop, tried again). */
  reachedBefore?: boolean;
  /** Openings in a row that bring no event before giving up. */
  maxReconnects?: number;
}

/**
 * Follows a job through GET /jobs/:id/events until `event: done`; its final status. The
 * stream is read with fetch (so the API key goes in a header); when it drops before `done` it
 * is opened again with Last-Event-ID, so no progress is repeated or lost.
 */
export async function watchJob(conn: Connection, jobId: string, options: WatchOptions = {}): Promise<JobStatus> {
  const idleMs = options.idleMs ?? 45_000;
  const maxReconnects = options.maxReconnects ?? 5;
  const subject = { label: `job ${jobId}`, jobId };
  let lastEventId: string | undefined;
  let retryMs = 2000;
  let failures = 0;
  let lastError: CliError | undefined;
  let connected = options.reachedBefore ?? false;
  for (;;) {
    const abort = new AbortController();
    try {
      const res = await request(conn, `/jobs/${encodeURIComponent(jobId)}/events`, {
        subject,
        noTimeout: true,
        signal: abort.signal,
        headers: { Accept: 'text/event-stream', ...(lastEventId ? { 'Last-Event-ID': lastEventId } : {}) },
      });
      if (!res.body) throw new CliError(`job ${jobId}: the router sent no event stream`, EXIT.unavailable);
      connected = true;
      for await (const event of parseSse(withIdleTimeout(res.body as unknown as AsyncIterable<Uint8Array>, idleMs, abort))) {
        if (event.retry !== undefined) retryMs = event.retry;
        if (event.id !== undefined) lastEventId = event.id;
        if (event.event === 'progress' || event.event === 'done') {
          failures = 0;
          const status = JSON.parse(event.data) as JobStatus;
          if (event.event === 'done' || TERMINAL.has(status.status)) {
            abort.abort();
            return status;
          }
          options.onStatus?.(status);
        } else if (event.event === 'error') {
          break; // the router lost its own feed: open the stream again
        }
      }
    } catch (err) {
      // a refusal (unknown job, no key) is final; a dropped or unreachable stream is tried again
      if (err instanceof CliError && err.exitCode !== EXIT.unavailable) throw err;
      // a router that was never reached is not waited for
      if (err instanceof CliError && !connected) throw err;
      if (err instanceof CliError) lastError = err;
    } finally {
      abort.abort();
    }
    failures++;
    if (failures > maxReconnects) {
      // the stream will not stay up: one plain status read tells whether the job has ended
      const status = await requestJson<JobStatus>(conn, `/jobs/${encodeURIComponent(jobId)}`, { subject });
      if (TERMINAL.has(status.status)) return status;
      throw (
        lastError ??
        new CliError(`job ${jobId}: the router's event stream keeps dropping (opened ${failures} times); the job is ${status.status}: \`artorizer watch ${jobId}\` follows it again`, EXIT.unavailable)
      );
    }
    options.onReconnect?.(failures);
    await sleep(Math.min(retryMs, 5000) * (failures === 1 ? 0.5 : 1));
  }
}

import { EXIT } from './exit-codes';
import { CliError, Subject, answerError, isRetryable, networkError } from './errors';
import { DEFAULT_RETRY, RetryPolicy, RetryableAnswer, parseRetryAfter, withRetries } from './retry';

/** Where the router is and how to talk to it. */
export interface Connection {
  /** The router's base URL, without a trailing slash. */
  url: string;
  apiKey?: string;
  /** Give up on a request whose answer has not begun within this long. */
  timeoutMs: number;
  retry: RetryPolicy;
}

export function connection(url: string, apiKey: string | undefined, options: Partial<Pick<Connection, 'timeoutMs' | 'retry'>> = {}): Connection {
  return { url: url.replace(/\/+$/, ''), apiKey: apiKey || undefined, timeoutMs: options.timeoutMs ?? 30_000, retry: options.retry ?? DEFAULT_RETRY };
}

/**
 * A signal that aborts a request whose answer has not begun within `ms` (a router that accepts
 * connections and says nothing); cleared once the headers are in, so a long body is not cut.
 */
export function headersDeadline(ms: number): { signal: AbortSignal; clear(): void } {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(Object.assign(new Error(`no answer within ${ms / 1000} s`), { name: 'TimeoutError' })), ms);
  return { signal: controller.signal, clear: () => clearTimeout(timer) };
}

/** The headers every request to the router carries. */
export function authHeaders(conn: Connection): Record<string, string> {
  return conn.apiKey ? { Authorization: `Bearer ${conn.apiKey}` } : {};
}

export interface RequestOptions {
  method?: string;
  /** A JSON body. */
  json?: unknown;
  headers?: Record<string, string>;
  /** What the request is about, for the error messages. */
  subject: Subject;
  /** Ask again after 429/503 (default: yes). */
  retry?: boolean;
  /** Keep a redirect as the answer instead of following it. */
  manualRedirect?: boolean;
  /** No timeout (an event stream, a download). */
  noTimeout?: boolean;
  signal?: AbortSignal;
  onWait?: (seconds: number, error: CliError) => void;
}

/**
 * One request to the router: an OK answer is returned as it is; anything else becomes a
 * CliError in words (after asking again on 429/503, honouring Retry-After); a request that gets
 * no answer becomes "cannot reach the router".
 */
export async function request(conn: Connection, path: string, options: RequestOptions): Promise<Response> {
  const subject = { withKey: Boolean(conn.apiKey), ...options.subject };
  const once = async (): Promise<Response> => {
    const headers: Record<string, string> = { ...authHeaders(conn), ...options.headers };
    if (options.json !== undefined) headers['Content-Type'] = 'application/json';
    const deadline = options.noTimeout ? undefined : headersDeadline(conn.timeoutMs);
    const signals = [options.signal, deadline?.signal].filter((s): s is AbortSignal => s !== undefined);
    let res: Response;
    try {
      res = await fetch(`${conn.url}${path}`, {
        method: options.method ?? 'GET',
        headers,
        body: options.json === undefined ? undefined : JSON.stringify(options.json),
        redirect: options.manualRedirect ? 'manual' : 'follow',
        signal: signals.length === 0 ? undefined : signals.length === 1 ? signals[0] : AbortSignal.any(signals),
      });
    } catch (err) {
      if (options.signal?.aborted) throw err;
      throw networkError(err, conn.url) ?? err;
    } finally {
      deadline?.clear();
    }
    if (res.ok || (options.manualRedirect && res.status >= 300 && res.status < 400)) return res;
    const body = await res.text().catch(() => '');
    const error = answerError(res.status, body, subject);
    if (options.retry !== false && isRetryable(res.status)) throw new RetryableAnswer(error, parseRetryAfter(res.headers.get('retry-after')));
    throw error;
  };
  return withRetries(once, options.retry === false ? { ...conn.retry, retries: 0 } : conn.retry, options.onWait);
}

/** A request whose answer is JSON. */
export async function requestJson<T>(conn: Connection, path: string, options: RequestOptions): Promise<T> {
  const res = await request(conn, path, options);
  const text = await res.text();
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new CliError(`${options.subject.label}: the router's answer to ${options.method ?? 'GET'} ${path} is not JSON (is ${conn.url} an Artorizer router?)`, EXIT.unavailable);
  }
}

import { CallContext } from '../core/call-context';
import { HttpError } from '../http/errors';

/** What the processor's `POST /v1/jobs` answers. */
export interface LegacyAccepted {
  job_id: string;
  status: string;
}

/**
 * The processor's original HTTP API (`PROCESSOR_HTTP_URL`), as `legacy` mode reaches it: one
 * place for its address, its timeout (`PROCESSOR_HTTP_TIMEOUT_MS`), the request id, and what
 * its failures become for the router's client: unreachable is 503 (retry later), the
 * processor's own 503 stays 503, any other 5xx (or an answer that is not what was asked for)
 * is 502 without the processor's own words, a refusal keeps its status, message and field.
 */
export class ProcessorHttpApi {
  constructor(
    readonly baseUrl: string,
    private readonly timeoutMs: number,
  ) {}

  /**
   * A request carrying the caller's request id. `timed: false` for what may rightly take
   * longer than the timeout: a whole upload re-posted, a download streamed to the client.
   */
  async request(path: string, ctx: CallContext, init: RequestInit = {}, timed = true): Promise<Response> {
    try {
      return await fetch(`${this.baseUrl}${path}`, {
        ...init,
        headers: { 'x-request-id': ctx.requestId, ...(init.headers as Record<string, string> | undefined) },
        signal: timed ? AbortSignal.timeout(this.timeoutMs) : init.signal,
      });
    } catch (err) {
      throw new HttpError(503, 'processor unavailable, retry later', {}, { cause: err });
    }
  }

  /** `POST /v1/jobs`: the job the processor accepted, or its refusal as the router's error. */
  async submit(body: FormData | string, ctx: CallContext, timed: boolean): Promise<LegacyAccepted> {
    const headers: Record<string, string> = typeof body === 'string' ? { 'Content-Type': 'application/json' } : {};
    const res = await this.request('/v1/jobs', ctx, { method: 'POST', body, headers }, timed);
    const answer = (await res.json().catch(() => ({}))) as { job_id?: string; status?: string; error?: string; field?: string };
    if (res.status !== 202 || !answer.job_id) throw refusal(res.status, answer, 'processor refused the job');
    return { job_id: answer.job_id, status: answer.status ?? 'queued' };
  }

  /** Whether `GET /health` answers 2xx within the timeout (readiness). */
  async ready(): Promise<boolean> {
    try {
      return (await fetch(`${this.baseUrl}/health`, { signal: AbortSignal.timeout(this.timeoutMs) })).ok;
    } catch {
      return false;
    }
  }
}

/** A processor answer that is not what was asked for, as the router answers its own client. */
export function refusal(status: number, answer: { error?: string; field?: string }, fallback: string): HttpError {
  if (status === 503) return new HttpError(503, 'processor unavailable, retry later');
  if (status >= 500 || status < 400) return new HttpError(502, 'processor error');
  return new HttpError(status, answer.error ?? fallback, answer.field ? { field: answer.field } : {});
}

/** The API at the router's settings (`PROCESSOR_HTTP_URL`, `PROCESSOR_HTTP_TIMEOUT_MS`). */
export function processorHttpApi(config: { processorHttpUrl: string; processorHttpTimeoutMs: number }): ProcessorHttpApi {
  return new ProcessorHttpApi(config.processorHttpUrl, config.processorHttpTimeoutMs);
}

import { setTimeout as delay } from 'node:timers/promises';
import { HttpJobResult, HttpJobStatus } from '@artorizer/contract';
import { CallContext } from '../core/call-context';
import { ProcessorHttpApi, refusal } from '../legacy/processor-http-api';
import { ArtifactDownload, JobBackend, JobEvent, ResultAnswer, downloadPath } from './backend';

const TERMINAL = new Set(['completed', 'failed', 'cancelled']);
/** The legacy HTTP API has no event stream; events are status polls at this interval. */
const POLL_MS = 250;

/** Job queries through the processor's original HTTP API (`TRANSFER_MODE=legacy`). */
export class LegacyJobBackend implements JobBackend {
  constructor(private readonly api: ProcessorHttpApi) {}

  /** 409 is the result route's "not done yet", read by `result`. */
  private async call(path: string, ctx: CallContext, init: RequestInit = {}, timed = true): Promise<Response> {
    const res = await this.api.request(path, ctx, init, timed);
    if (res.ok || res.status === 409) return res;
    throw refusal(res.status, (await res.json().catch(() => ({}))) as { error?: string }, `processor answered ${res.status}`);
  }

  async status(jobId: string, ctx: CallContext): Promise<HttpJobStatus> {
    return (await this.call(`/v1/jobs/${encodeURIComponent(jobId)}`, ctx)).json() as Promise<HttpJobStatus>;
  }

  async result(jobId: string, ctx: CallContext): Promise<ResultAnswer> {
    const res = await this.call(`/v1/jobs/${encodeURIComponent(jobId)}/result`, ctx);
    if (res.status === 409) {
      const body = (await res.json()) as HttpJobStatus & { error?: string };
      delete body.error;
      return { done: false, status: body };
    }
    const body = (await res.json()) as HttpJobResult;
    const artifacts = body.artifacts.map((a) => ({ ...a, url: downloadPath(jobId, a.variant) }));
    return { done: true, body: { ...body, artifacts, download_urls: Object.fromEntries(artifacts.map((a) => [a.variant, a.url])) } };
  }

  async cancel(jobId: string, ctx: CallContext): Promise<HttpJobStatus> {
    return (await this.call(`/v1/jobs/${encodeURIComponent(jobId)}`, ctx, { method: 'DELETE' })).json() as Promise<HttpJobStatus>;
  }

  async download(jobId: string, variant: string, ctx: CallContext): Promise<ArtifactDownload> {
    const abort = new AbortController();
    const res = await this.call(`/v1/jobs/${encodeURIComponent(jobId)}/download/${encodeURIComponent(variant)}`, ctx, { signal: abort.signal }, false);
    return {
      contentType: res.headers.get('content-type') ?? 'application/octet-stream',
      length: Number(res.headers.get('content-length') ?? 0),
      body: asBuffers(res.body as unknown as AsyncIterable<Uint8Array>),
      abort: () => abort.abort(),
    };
  }

  async *events(jobId: string, ctx: CallContext, signal: AbortSignal): AsyncGenerator<JobEvent> {
    let sequence = 0;
    let last = '';
    while (!signal.aborted) {
      const status = await this.status(jobId, ctx);
      const seen = JSON.stringify([status.status, status.progress]);
      const terminal = TERMINAL.has(status.status);
      if (seen !== last) {
        last = seen;
        yield { sequence: ++sequence, status, terminal };
      }
      if (terminal) return;
      await delay(POLL_MS, undefined, { signal }).catch(() => undefined);
    }
  }
}

/** fetch's body yields Uint8Arrays; the download route reads Buffers (it sniffs the first). */
async function* asBuffers(body: AsyncIterable<Uint8Array>): AsyncGenerator<Buffer> {
  for await (const chunk of body) yield Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

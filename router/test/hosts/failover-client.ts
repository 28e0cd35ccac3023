import { randomUUID } from 'node:crypto';
import { form } from '../harness';

/**
 * The client of the multi-host test: a stream of submits spread over several routers, each
 * with an idempotency key, each attempt bounded by a client timeout (a cut link makes TCP
 * hang, it does not reset). A failed attempt marks its router down and the request is tried
 * again, with the same key (and the same upload), through a router still up.
 */

export type RequestKind = 'upload' | 'queued';

export interface Attempt {
  router: string;
  /** For a queued submit: the step that went through the router (the PUT goes to the store). */
  step: 'protect' | 'uploads';
  startedAt: number;
  endedAt: number;
  ok: boolean;
  status?: number;
  error?: string;
}

export interface ClientRequest {
  index: number;
  kind: RequestKind;
  key: string;
  attempts: Attempt[];
  jobId?: string;
}

export interface RouterTarget {
  label: string;
  url: string;
}

const META = { artist_name: 'Hosts Test', artwork_title: 'Failover' };

export class FailoverClient {
  readonly requests: ClientRequest[] = [];
  /** Routers this client has seen fail, and when. */
  readonly down = new Map<string, number>();
  private readonly inflight = new Map<string, number>();

  constructor(
    private readonly routers: readonly RouterTarget[],
    private readonly image: Buffer,
    private readonly attemptTimeoutMs: number,
  ) {}

  inflightAt(label: string): number {
    return this.inflight.get(label) ?? 0;
  }

  /** The router for request `index` (alternating, per pair of requests so both kinds reach both), or the next one up. */
  private routerFor(index: number, offset = 0): RouterTarget {
    const n = this.routers.length;
    for (let i = 0; i < n; i++) {
      const r = this.routers[(Math.floor(index / 2) + offset + i) % n];
      if (!this.down.has(r.label)) return r;
    }
    throw new Error('every router is down');
  }

  private async attempt<T>(
    request: ClientRequest,
    router: RouterTarget,
    step: Attempt['step'],
    call: (signal: AbortSignal) => Promise<{ status: number; body: T }>,
    want: number,
  ): Promise<T | undefined> {
    const attempt: Attempt = { router: router.label, step, startedAt: Date.now(), endedAt: 0, ok: false };
    request.attempts.push(attempt);
    this.inflight.set(router.label, this.inflightAt(router.label) + 1);
    try {
      const { status, body } = await call(AbortSignal.timeout(this.attemptTimeoutMs));
      attempt.status = status;
      attempt.ok = status === want;
      if (!attempt.ok) attempt.error = `HTTP ${status}: ${JSON.stringify(body).slice(0, 200)}`;
      return attempt.ok ? body : undefined;
    } catch (err) {
      attempt.error = (err as Error).name === 'TimeoutError' ? `no answer within ${this.attemptTimeoutMs} ms` : (err as Error).message;
      return undefined;
    } finally {
      attempt.endedAt = Date.now();
      this.inflight.set(router.label, this.inflightAt(router.label) - 1);
      if (!attempt.ok && !this.down.has(router.label)) this.down.set(router.label, attempt.endedAt);
    }
  }

  /** One multipart upload (POST /protect with the file), retried through the next router up. */
  private async upload(request: ClientRequest): Promise<void> {
    for (let offset = 0; offset < this.routers.length * 2 && !request.jobId; offset++) {
      const router = this.routerFor(request.index, offset);
      const accepted = await this.attempt(
        request,
        router,
        'protect',
        async (signal) => {
          const res = await fetch(`${router.url}/protect`, { method: 'POST', body: form({ ...META, idempotency_key: request.key }, this.image), signal });
          return { status: res.status, body: (await res.json()) as { job_id?: string } };
        },
        202,
      );
      request.jobId = accepted?.job_id;
    }
  }

  /**
   * A queued submit of a direct upload: POST /uploads (a router), the PUT of the bytes (the
   * store), POST /protect {upload_id, idempotency_key} (a router). A failed submit is sent
   * again, same upload and key, through the next router up; a failed grant starts over.
   */
  private async queued(request: ClientRequest): Promise<void> {
    let uploadId: string | undefined;
    for (let offset = 0; offset < this.routers.length * 2 && !request.jobId; offset++) {
      const router = this.routerFor(request.index, offset);
      if (!uploadId) {
        const grant = await this.attempt(
          request,
          router,
          'uploads',
          async (signal) => {
            const res = await fetch(`${router.url}/uploads`, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify({ content_type: 'image/png', size: this.image.length }),
              signal,
            });
            return { status: res.status, body: (await res.json()) as { upload_id: string; url: string; headers: Record<string, string> } };
          },
          201,
        );
        if (!grant) continue;
        const put = await fetch(grant.url, { method: 'PUT', headers: grant.headers, body: this.image, signal: AbortSignal.timeout(this.attemptTimeoutMs) });
        if (put.status !== 200) throw new Error(`PUT to the store: HTTP ${put.status}`);
        uploadId = grant.upload_id;
      }
      const accepted = await this.attempt(
        request,
        router,
        'protect',
        async (signal) => {
          const res = await fetch(`${router.url}/protect`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ ...META, upload_id: uploadId, idempotency_key: request.key }),
            signal,
          });
          return { status: res.status, body: (await res.json()) as { job_id?: string } };
        },
        202,
      );
      request.jobId = accepted?.job_id;
    }
  }

  /** Requests started so far. */
  get started(): number {
    return this.requests.length;
  }

  /**
   * Sends requests (even: uploads, odd: queued submits), `concurrency` at a time, until
   * `enough()` says so when the next one would start, or `max` have started.
   */
  async run(concurrency: number, max: number, enough: () => boolean): Promise<void> {
    const worker = async () => {
      while (this.requests.length < max && !enough()) {
        const index = this.requests.length;
        const request: ClientRequest = { index, kind: index % 2 === 0 ? 'upload' : 'queued', key: randomUUID(), attempts: [] };
        this.requests.push(request);
        await (request.kind === 'upload' ? this.upload(request) : this.queued(request));
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
  }
}

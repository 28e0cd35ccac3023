/** Messages between bench/lib/api.ts and the load generator process (bench/lib/load-worker.ts). */

export interface LoadRequest {
  url: string;
  /** More URLs of equal servers (autocannon only): its connections go round-robin over `url` and these. */
  moreUrls?: string[];
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  /** Request body, base64. */
  bodyBase64?: string;
  /**
   * A UUID in the body (`placeholder`) replaced in every request by the next id of the
   * sequence `prefix` (same length, so the same Content-Length), counted on across jobs: for
   * requests that must not repeat (an upload_id is consumed once), with ids the bench can
   * prepare beforehand (upload grants of an API key).
   */
  idSequence?: { placeholder: string; prefix: string };
}

/** The n-th id of a sequence: a UUID whose first group is `prefix` (8 hex digits) and whose last is n. */
export function sequenceId(prefix: string, n: number): string {
  return `${prefix}-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
}

const sequenceNext = new Map<string, number>();

/**
 * For a request whose body varies (`idSequence`): a function giving `bytes` with the
 * sequence's next id (this process counts) in place of the placeholder. Undefined otherwise.
 */
export function idVariation(request: LoadRequest, bytes: Buffer): (() => Buffer) | undefined {
  if (!request.idSequence) return undefined;
  const { placeholder, prefix } = request.idSequence;
  const at = bytes.indexOf(placeholder, 0, 'latin1');
  if (at < 0) throw new Error(`the request does not contain its placeholder ${placeholder}`);
  return () => {
    const n = sequenceNext.get(prefix) ?? 0;
    sequenceNext.set(prefix, n + 1);
    const copy = Buffer.from(bytes);
    copy.write(sequenceId(prefix, n), at, 'latin1');
    return copy;
  };
}

/**
 * - `max`: autocannon, closed loop: `connections` connections, each sending its next request
 *   as soon as the previous one is answered, for `durationSec`.
 * - `rate`: autocannon with `overallRate` (requests per second over all connections).
 * - `paced`: an open-loop generator: one request every 1/rate s on a fixed schedule, keep-alive
 *   sockets (at most `connections`), latency counted from the scheduled send time.
 */
export interface LoadJob {
  id: number;
  kind: 'max' | 'rate' | 'paced';
  request: LoadRequest;
  connections: number;
  durationSec: number;
  rate?: number;
  /** paced: seconds at the same rate before measuring (connections opened, JIT warm). */
  warmupSec?: number;
}

export interface Latency {
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

export interface LoadResult {
  id: number;
  kind: LoadJob['kind'];
  connections: number;
  durationSec: number;
  targetRate?: number;
  /** Responses counted (2xx and others), in the measured part. */
  responses: number;
  ok2xx: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  /** 2xx responses per second of the measured part. */
  rate: number;
  /** Milliseconds. autocannon: whole milliseconds (its histogram's resolution). */
  latency: Latency;
  /** paced only: latency from the moment the request was actually handed to the socket pool. */
  latencyFromSend?: Latency;
  /** CPU time (user + system) of the load generator during the job, ms. */
  generatorCpuMs: number;
  statusCodes: Record<string, number>;
}

import { CliError, afterRetries } from './errors';

/** How often and how long the CLI asks again after a 429 or 503. */
export interface RetryPolicy {
  /** Retries after the first attempt. */
  retries: number;
  /** The longest single wait, whatever Retry-After says. */
  maxWaitSeconds: number;
  /** The longest total wait over all retries. */
  totalWaitSeconds: number;
  /** The wait when the answer has no Retry-After. */
  defaultWaitSeconds: number;
}

export const DEFAULT_RETRY: RetryPolicy = { retries: 3, maxWaitSeconds: 30, totalWaitSeconds: 60, defaultWaitSeconds: 2 };

/** A 429 or 503 that may be asked again, with the router's Retry-After in seconds. */
export class RetryableAnswer extends Error {
  constructor(
    readonly error: CliError,
    readonly retryAfterSeconds: number | undefined,
  ) {
    super(error.message);
    this.name = 'RetryableAnswer';
  }
}

/** Retry-After as seconds: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - now) / 1000));
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Runs `attempt`, and again after a RetryableAnswer, waiting what the router asked (capped),
 * until the retries or the total wait run out; then the error says how often it asked and how
 * long it was last told to wait. `onWait` hears of each wait (for the progress display).
 */
export async function withRetries<T>(attempt: () => Promise<T>, policy: RetryPolicy = DEFAULT_RETRY, onWait?: (seconds: number, error: CliError) => void): Promise<T> {
  let waited = 0;
  let lastAsked: number | undefined;
  for (let retry = 0; ; retry++) {
    try {
      return await attempt();
    } catch (err) {
      if (!(err instanceof RetryableAnswer)) throw err;
      lastAsked = err.retryAfterSeconds ?? lastAsked;
      const wait = Math.min(err.retryAfterSeconds ?? policy.defaultWaitSeconds, policy.maxWaitSeconds);
      if (retry >= policy.retries || waited + wait > policy.totalWaitSeconds) throw afterRetries(err.error, retry, lastAsked);
      onWait?.(wait, err.error);
      await sleep(wait * 1000);
      waited += wait;
    }
  }
}

/** The exit codes a script can rely on; with several files the highest one wins. */
export const EXIT = {
  /** Everything done (with --wait: every job completed). */
  ok: 0,
  /** A job failed or was cancelled, or completed without a protected image (no layer could be applied). */
  jobFailed: 1,
  /** The command line was wrong (unknown option, bad value, missing file). */
  usage: 2,
  /** The router refused the input: a bad field (400), not found (404), a conflict (409), too large (413), not an image (415). */
  refused: 3,
  /** The router cannot be reached or is unavailable: connection refused, timeout, 503 or 429 after retries, another 5xx. */
  unavailable: 4,
  /** The router wants an API key, or refused the one given (401, 403). */
  auth: 5,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** The worse of two outcomes. */
export function worst(a: ExitCode, b: ExitCode): ExitCode {
  return a >= b ? a : b;
}

/** The exit codes as `--help` lists them. */
export const EXIT_CODES_HELP = `Exit codes:
  0  all done (with --wait: every job completed)
  1  a job failed or was cancelled, or completed without a protected image
  2  usage error (unknown option, bad value, a file that cannot be read)
  3  the router refused the input: a bad field (400), not found (404), a conflict (409),
     too large (413), not an image (415)
  4  the router cannot be reached or is unavailable: connection refused, timeout,
     503 or 429 after retries, another server error
  5  authentication: the router wants an API key or refused it (401, 403)
  130 interrupted (Ctrl-C)
With several files the highest code wins, and every file is still attempted.`;

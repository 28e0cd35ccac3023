import { EXIT, ExitCode } from './exit-codes';
import { formatBytes, formatSeconds, typeList } from './format';

/** What the CLI tells a person when something did not work, and the exit code it means. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode,
    readonly details: { status?: number; field?: string; routerMessage?: string } = {},
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** Whether a CliError could go away by asking again later (429, 503). */
export function isRetryable(status: number | undefined): boolean {
  return status === 429 || status === 503;
}

/** The CLI option behind each field the router may name in a 400. */
const OPTION_OF_FIELD: Record<string, string> = {
  artist_name: '--artist',
  artwork_title: '--title',
  artwork_description: '--description',
  tags: '--tags',
  watermark_text: '--watermark',
  watermark_strategy: '--watermark-strategy',
  processors: '--processors',
};

function fieldLabel(field: string): string {
  const option = OPTION_OF_FIELD[field] ?? (field.startsWith('enable_') ? '--layers' : undefined);
  return option ? `${option} (${field})` : field;
}

/** What the request was about, for the messages: a file, or a job. */
export interface Subject {
  /** "art.png" or "job 6f1c…": starts the message. */
  label: string;
  /** The job id, when the request was about a job. */
  jobId?: string;
  /** The file's size, for a 413. */
  fileBytes?: number;
  /** The router's limit (from GET /info), for a 413. */
  maxFileBytes?: number;
  /** The router's accepted types (from GET /info), for a 415. */
  acceptedTypes?: readonly string[];
  /** Whether an API key was sent, for a 401. */
  withKey?: boolean;
}

export const DEFAULT_ACCEPTED_TYPES = ['image/png', 'image/jpeg', 'image/gif', 'image/webp', 'image/tiff', 'image/avif', 'image/heif'];

/** The router's `error` text from a JSON error body, or the body itself when it is plain text (tus answers). */
export function routerMessageOf(body: string): string {
  try {
    const parsed = JSON.parse(body) as unknown;
    if (parsed && typeof parsed === 'object' && typeof (parsed as { error?: unknown }).error === 'string') return (parsed as { error: string }).error;
  } catch {
    // not JSON
  }
  return body.trim().slice(0, 300);
}

function fieldOf(body: string): string | undefined {
  try {
    const parsed = JSON.parse(body) as { field?: unknown };
    return typeof parsed.field === 'string' ? parsed.field : undefined;
  } catch {
    return undefined;
  }
}

export function tooLarge(subject: Subject): CliError {
  const size = subject.fileBytes !== undefined ? formatBytes(subject.fileBytes) : undefined;
  const limit = subject.maxFileBytes !== undefined ? `the router accepts at most ${formatBytes(subject.maxFileBytes)}` : "over the router's limit";
  return new CliError(`${subject.label}: too large (${size ? `${size}; ` : ''}${limit})`, EXIT.refused, { status: 413 });
}

/** An HTTP answer that is not a success, in words, with its exit code. */
export function answerError(status: number, body: string, subject: Subject): CliError {
  const routerMessage = routerMessageOf(body);
  const field = fieldOf(body);
  const details = { status, field, routerMessage };
  const label = subject.label;
  switch (status) {
    case 400:
      return new CliError(field ? `${label}: the router refused ${fieldLabel(field)}: ${routerMessage}` : `${label}: the router refused the request: ${routerMessage}`, EXIT.refused, details);
    case 401:
      return new CliError(
        subject.withKey
          ? `the router refused the API key (${routerMessage}): check --api-key or ARTORIZER_API_KEY`
          : 'the router wants an API key: pass --api-key KEY or set ARTORIZER_API_KEY (`make api-key NAME=you` creates one)',
        EXIT.auth,
        details,
      );
    case 403:
      return new CliError(`${label}: the API key may not do this (${routerMessage})`, EXIT.auth, details);
    case 404:
      if (subject.jobId && /not found/i.test(routerMessage)) {
        return new CliError(`job ${subject.jobId} not found: the id is wrong, or the router no longer keeps the job`, EXIT.refused, details);
      }
      if (subject.jobId && routerMessage.includes(subject.jobId)) return new CliError(routerMessage, EXIT.refused, details);
      return new CliError(`${label}: not found (${routerMessage})`, EXIT.refused, details);
    case 409:
      return new CliError(`${label}: ${routerMessage}`, EXIT.refused, details);
    case 410:
      return new CliError(`${label}: the upload has expired on the router; run the command again to upload anew`, EXIT.refused, details);
    case 413:
      return tooLarge(subject);
    case 415:
      return new CliError(`${label}: not an image the router accepts (${typeList(subject.acceptedTypes ?? DEFAULT_ACCEPTED_TYPES)})`, EXIT.refused, details);
    case 429:
      return new CliError(`the router is limiting requests (${routerMessage})`, EXIT.unavailable, details);
    case 503:
      // "processor unavailable, retry later": the CLI does the retrying, and says so
      return new CliError(`the router is busy (${routerMessage.replace(/,? *retry later\.?$/i, '')})`, EXIT.unavailable, details);
    default:
      if (status >= 500) return new CliError(`the router failed (${status}: ${routerMessage})`, EXIT.unavailable, details);
      return new CliError(`${label}: the router answered ${status}: ${routerMessage}`, EXIT.refused, details);
  }
}

/** The same error after retries ran out: "…; retried 3 times, last asked to wait 5 s". */
export function afterRetries(err: CliError, retries: number, lastWaitSeconds: number | undefined): CliError {
  if (retries === 0) return err;
  const waited = lastWaitSeconds !== undefined ? `, last asked to wait ${formatSeconds(lastWaitSeconds)}` : '';
  return new CliError(`${err.message}; retried ${retries} time${retries === 1 ? '' : 's'}${waited}`, err.exitCode, err.details);
}

const NETWORK_REASONS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host not found',
  ETIMEDOUT: 'no answer in time',
  UND_ERR_CONNECT_TIMEOUT: 'timed out connecting',
  UND_ERR_HEADERS_TIMEOUT: 'no answer in time',
  UND_ERR_BODY_TIMEOUT: 'no data in time',
  ECONNRESET: 'connection reset',
  EPIPE: 'connection closed',
  UND_ERR_SOCKET: 'connection closed',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ECONNABORTED: 'connection aborted',
};

/** The system error code behind a failed request (fetch wraps it in `cause`, sometimes twice). */
export function networkCode(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e && typeof e === 'object' && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && code in NETWORK_REASONS) return code;
    if ((e as { name?: unknown }).name === 'TimeoutError') return 'ETIMEDOUT';
    // AggregateError from happy-eyeballs connects: the first one's code
    const errors = (e as { errors?: unknown }).errors;
    if (Array.isArray(errors) && errors.length > 0) {
      const inner = networkCode(errors[0]);
      if (inner) return inner;
    }
  }
  return undefined;
}

/** A request that got no answer, in words. Undefined when `err` is not a network failure. */
export function networkError(err: unknown, routerUrl: string): CliError | undefined {
  const code = networkCode(err);
  if (!code && !(err instanceof TypeError && /fetch failed/.test(err.message))) return undefined;
  const reason = code ? NETWORK_REASONS[code] : err instanceof Error && err.cause instanceof Error ? err.cause.message : 'no answer';
  const unreachable = code === undefined || ['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT', 'ETIMEDOUT'].includes(code);
  return new CliError(
    unreachable ? `cannot reach the router at ${routerUrl} (${reason}): is it running? \`make up\` starts one` : `lost the connection to the router at ${routerUrl} (${reason})`,
    EXIT.unavailable,
  );
}

/** Any error as a CliError: ours as they are, network failures in words, anything else as it came. */
export function asCliError(err: unknown, routerUrl: string): CliError {
  if (err instanceof CliError) return err;
  const network = networkError(err, routerUrl);
  if (network) return network;
  const message = err instanceof Error ? err.message : String(err);
  return new CliError(`unexpected error: ${message}`, EXIT.unavailable);
}

import { lookup } from 'node:dns/promises';
import ipaddr from 'ipaddr.js';
import { Address, AddressPolicy, literalAddress, stripTrailingDot } from '@artorizer/net-guard';

export { parsePolicyList } from '@artorizer/net-guard';

export interface UrlPolicy {
  /** Host names (exact, case-insensitive) or CIDR ranges (e.g. "127.0.0.0/8", "10.1.2.3/32", "::1/128") that are allowed even if private. */
  allowlist: string[];
  /** Maximum redirects followed while resolving the final URL (default 5). */
  maxRedirects?: number;
  /** Timeout for each probe request in ms (default 5000). */
  timeoutMs?: number;
  /** Injected resolver for tests; default dns.promises.lookup with all:true. */
  resolve?: (host: string) => Promise<string[]>;
  /** How long a host name may take to resolve (default RESOLVE_TIMEOUT_MS). */
  resolveTimeoutMs?: number;
}

export type UrlRejectionReason = 'invalid_url' | 'unsupported_scheme' | 'credentials' | 'forbidden_host' | 'unreachable' | 'too_many_redirects';

/** Rejection of an image_url; `message` is safe to return to the client. */
export class UrlRejectedError extends Error {
  override readonly name = 'UrlRejectedError';

  constructor(
    readonly reason: UrlRejectionReason,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

const DEFAULT_MAX_REDIRECTS = 5;
const DEFAULT_TIMEOUT_MS = 5000;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/** Validates syntax and every address the host stands for; returns the parsed URL. */
export async function checkUrlTarget(url: string, policy: UrlPolicy): Promise<URL> {
  const parsed = parseUrl(url);
  const allowlist = new AddressPolicy(policy.allowlist);
  const host = stripTrailingDot(parsed.hostname);
  if (allowlist.allowsName(host)) return parsed;
  if (allowlist.isMetadataHost(host)) {
    throw new UrlRejectedError('forbidden_host', 'image_url points to a cloud metadata endpoint');
  }

  const literal = literalAddress(host);
  const addresses = literal ? [literal] : await resolveHost(host, policy.resolve ?? defaultResolve, policy.resolveTimeoutMs ?? RESOLVE_TIMEOUT_MS);
  for (const address of addresses) {
    const label = allowlist.refusal(address);
    if (label !== undefined) throw new UrlRejectedError('forbidden_host', `image_url resolves to ${label} address (${address.toString()})`);
  }
  return parsed;
}

/** Follows redirects (checking every hop) without downloading bodies; returns the URL that answered. */
export async function resolveFinalUrl(url: string, policy: UrlPolicy): Promise<string> {
  const maxRedirects = policy.maxRedirects ?? DEFAULT_MAX_REDIRECTS;
  const timeoutMs = policy.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  let current = await checkUrlTarget(url, policy);

  for (let redirects = 0; ; redirects++) {
    const location = await probe(current, timeoutMs);
    if (location === undefined) return current.href;
    if (redirects >= maxRedirects) {
      throw new UrlRejectedError('too_many_redirects', 'image_url has too many redirects');
    }
    current = await checkUrlTarget(resolveLocation(location, current), policy);
  }
}

/** Answers that may mean "HEAD is not allowed here" (presigned GET URLs sign the method). */
const HEAD_REFUSED = new Set([403, 405, 501]);

/** HEAD first, so no body is requested; GET (body cancelled at once) where HEAD is refused. */
async function probe(url: URL, timeoutMs: number): Promise<string | undefined> {
  const signal = AbortSignal.timeout(timeoutMs);
  let res: Response;
  try {
    res = await fetch(url, { method: 'HEAD', redirect: 'manual', signal });
    if (HEAD_REFUSED.has(res.status)) res = await fetch(url, { method: 'GET', redirect: 'manual', signal });
  } catch (err) {
    const what = signal.aborted ? 'timed out' : 'connection failed';
    throw new UrlRejectedError('unreachable', `image_url could not be reached: ${what}`, { cause: err });
  }
  await res.body?.cancel().catch(() => undefined);
  if (!REDIRECT_STATUSES.has(res.status)) return undefined;
  return res.headers.get('location') ?? undefined;
}

function resolveLocation(location: string, base: URL): string {
  try {
    return new URL(location, base).href;
  } catch {
    throw new UrlRejectedError('invalid_url', 'image_url redirects to an invalid URL');
  }
}

function parseUrl(url: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UrlRejectedError('invalid_url', 'image_url is not a valid URL');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new UrlRejectedError('unsupported_scheme', 'image_url must use http or https');
  }
  if (parsed.username !== '' || parsed.password !== '') {
    throw new UrlRejectedError('credentials', 'image_url must not contain credentials');
  }
  return parsed;
}

/** How long a host name in image_url may take to resolve before the submit gets its 400. */
export const RESOLVE_TIMEOUT_MS = 5000;

async function resolveHost(host: string, resolve: (host: string) => Promise<string[]>, timeoutMs: number): Promise<Address[]> {
  let raw: string[];
  let timer: NodeJS.Timeout | undefined;
  const slow = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new UrlRejectedError('unreachable', `image_url could not be reached: its host name did not resolve within ${timeoutMs / 1000} s`)), timeoutMs);
  });
  try {
    raw = await Promise.race([resolve(host), slow]);
  } catch (err) {
    if (err instanceof UrlRejectedError) throw err;
    throw new UrlRejectedError('unreachable', 'image_url could not be reached: host not found', { cause: err });
  } finally {
    clearTimeout(timer);
  }
  if (raw.length === 0 || !raw.every((a) => ipaddr.isValid(a))) {
    throw new UrlRejectedError('unreachable', 'image_url could not be reached: host not found');
  }
  return raw.map((a) => ipaddr.parse(a));
}

async function defaultResolve(host: string): Promise<string[]> {
  const results = await lookup(host, { all: true, verbatim: true });
  return results.map((r) => r.address);
}

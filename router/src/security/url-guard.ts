import { lookup } from 'node:dns/promises';
import { domainToASCII } from 'node:url';
import ipaddr from 'ipaddr.js';

export interface UrlPolicy {
  /** Host names (exact, case-insensitive) or CIDR ranges (e.g. "127.0.0.0/8", "10.1.2.3/32", "::1/128") that are allowed even if private. */
  allowlist: string[];
  /** Maximum redirects followed while resolving the final URL (default 5). */
  maxRedirects?: number;
  /** Timeout for each probe request in ms (default 5000). */
  timeoutMs?: number;
  /** Injected resolver for tests; default dns.promises.lookup with all:true. */
  resolve?: (host: string) => Promise<string[]>;
}

export type UrlRejectionReason =
  | 'invalid_url'
  | 'unsupported_scheme'
  | 'credentials'
  | 'forbidden_host'
  | 'unreachable'
  | 'too_many_redirects';

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

type Address = ipaddr.IPv4 | ipaddr.IPv6;
type Range = [Address, number];

interface Allowlist {
  names: Set<string>;
  ranges: Range[];
}

const DEFAULT_MAX_REDIRECTS = 5;
const DEFAULT_TIMEOUT_MS = 5000;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const METADATA_HOSTS = new Set(['metadata.google.internal', 'metadata']);
const METADATA_ADDRESSES = ['169.254.169.254', 'fd00:ec2::254'].map((a) => ipaddr.parse(a).toString());
const GLOBAL_UNICAST_V6 = ipaddr.IPv6.parseCIDR('2000::/3');
const NAT64_WELL_KNOWN = ipaddr.IPv6.parseCIDR('64:ff9b::/96');
const RANGE_LABELS: Record<string, string> = {
  loopback: 'a loopback',
  private: 'a private',
  uniqueLocal: 'a private',
  linkLocal: 'a link-local',
  carrierGradeNat: 'a carrier-grade NAT',
  unspecified: 'an unspecified',
  multicast: 'a multicast',
  broadcast: 'a broadcast',
};

/** Parses IMAGE_URL_ALLOWLIST (comma-separated); throws on an entry that is neither a CIDR, an IP nor a host name. */
export function parsePolicyList(raw: string | undefined): string[] {
  const entries = (raw ?? '')
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '');
  compileAllowlist(entries);
  return entries;
}

/** Validates syntax and every address the host stands for; returns the parsed URL. */
export async function checkUrlTarget(url: string, policy: UrlPolicy): Promise<URL> {
  const parsed = parseUrl(url);
  const allowlist = compileAllowlist(policy.allowlist);
  const host = stripTrailingDot(parsed.hostname);
  if (allowlist.names.has(host)) return parsed;
  if (METADATA_HOSTS.has(host)) {
    throw new UrlRejectedError('forbidden_host', 'image_url points to a cloud metadata endpoint');
  }

  const literal = literalAddress(host);
  const addresses = literal ? [literal] : await resolveHost(host, policy.resolve ?? defaultResolve);
  for (const address of addresses) assertAllowed(address, allowlist);
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

async function resolveHost(host: string, resolve: (host: string) => Promise<string[]>): Promise<Address[]> {
  let raw: string[];
  try {
    raw = await resolve(host);
  } catch (err) {
    throw new UrlRejectedError('unreachable', 'image_url could not be reached: host not found', { cause: err });
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

function assertAllowed(address: Address, allowlist: Allowlist): void {
  const unwrapped = ipaddr.process(address.toString());
  const ranges = { allowed: allowlist.ranges };
  if (ipaddr.subnetMatch(address, ranges, '') || ipaddr.subnetMatch(unwrapped, ranges, '')) return;
  const label = forbiddenLabel(address);
  if (label !== undefined) {
    throw new UrlRejectedError('forbidden_host', `image_url resolves to ${label} address (${address.toString()})`);
  }
}

function forbiddenLabel(address: Address): string | undefined {
  if (METADATA_ADDRESSES.includes(address.toString())) return 'a cloud metadata';
  if (address instanceof ipaddr.IPv4) {
    const range = address.range();
    return range === 'unicast' ? undefined : (RANGE_LABELS[range] ?? 'a reserved');
  }

  const embedded = embeddedIPv4(address);
  if (embedded.length > 0) return embedded.map(forbiddenLabel).find((label) => label !== undefined);
  const range = address.range();
  // ipaddr.js calls anything it has no name for "unicast" (e.g. ::7f00:1); only 2000::/3 is actually global.
  if (range === 'unicast' && address.match(GLOBAL_UNICAST_V6)) return undefined;
  return RANGE_LABELS[range] ?? 'a reserved';
}

function embeddedIPv4(address: ipaddr.IPv6): ipaddr.IPv4[] {
  const p = address.parts;
  const v4 = (hi: number, lo: number): ipaddr.IPv4 => new ipaddr.IPv4([hi >> 8, hi & 0xff, lo >> 8, lo & 0xff]);
  switch (address.range()) {
    case 'ipv4Mapped':
    case 'rfc6145':
      return [v4(p[6], p[7])];
    case 'rfc6052':
      return address.match(NAT64_WELL_KNOWN) ? [v4(p[6], p[7])] : [];
    case '6to4':
      return [v4(p[1], p[2])];
    case 'teredo':
      // Teredo carries the server address in clear and the client address bit-inverted.
      return [v4(p[2], p[3]), v4(~p[6] & 0xffff, ~p[7] & 0xffff)];
    default:
      return [];
  }
}

function literalAddress(host: string): Address | undefined {
  if (host.startsWith('[') && host.endsWith(']')) return ipaddr.IPv6.parse(host.slice(1, -1));
  // The WHATWG parser already rewrote shorthand IPv4 (127.1, 0x7f000001, 2130706433) to dotted quads.
  if (ipaddr.IPv4.isValidFourPartDecimal(host)) return ipaddr.IPv4.parse(host);
  return undefined;
}

function compileAllowlist(entries: string[]): Allowlist {
  const allowlist: Allowlist = { names: new Set(), ranges: [] };
  for (const entry of entries) {
    if (entry.includes('/')) {
      if (!ipaddr.isValidCIDR(entry)) throw new Error(`Invalid allowlist CIDR: "${entry}"`);
      allowlist.ranges.push(ipaddr.parseCIDR(entry));
      continue;
    }
    if (ipaddr.IPv6.isValid(entry)) {
      allowlist.ranges.push([ipaddr.IPv6.parse(entry), 128]);
      continue;
    }
    const host = stripTrailingDot(domainToASCII(entry));
    if (host === '') throw new Error(`Invalid allowlist entry: "${entry}"`);
    if (ipaddr.IPv4.isValidFourPartDecimal(host)) allowlist.ranges.push([ipaddr.IPv4.parse(host), 32]);
    else allowlist.names.add(host);
  }
  return allowlist;
}

function stripTrailingDot(host: string): string {
  return host.endsWith('.') ? host.slice(0, -1) : host;
}

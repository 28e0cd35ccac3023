import { domainToASCII } from 'node:url';
import ipaddr from 'ipaddr.js';

/*
 * Which addresses a service may connect to on a client's behalf: no loopback, private,
 * link-local, CGNAT, multicast, reserved or cloud-metadata address (nor one of those
 * embedded in an IPv6 form), unless an allowlist entry names it.
 */

export type Address = ipaddr.IPv4 | ipaddr.IPv6;
type Range = [Address, number];

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

export function stripTrailingDot(host: string): string {
  return host.endsWith('.') ? host.slice(0, -1) : host;
}

/** The address a URL's host names literally (`[::1]`, `127.0.0.1`), or undefined for a host name. */
export function literalAddress(host: string): Address | undefined {
  if (host.startsWith('[') && host.endsWith(']')) return ipaddr.IPv6.parse(host.slice(1, -1));
  if (ipaddr.IPv6.isValid(host) && host.includes(':')) return ipaddr.IPv6.parse(host);
  // The WHATWG parser already rewrote shorthand IPv4 (127.1, 0x7f000001, 2130706433) to dotted quads.
  if (ipaddr.IPv4.isValidFourPartDecimal(host)) return ipaddr.IPv4.parse(host);
  return undefined;
}

/**
 * A host as the address check sees it: lower case, no trailing dot, an IP literal in one
 * spelling (an IPv4-mapped IPv6 address as IPv4), so that two spellings of one host compare equal.
 */
export function canonicalHost(hostname: string): string {
  const name = hostname.toLowerCase().replace(/\.$/, '');
  const literal = literalAddress(name);
  if (!literal) return name;
  const address = literal instanceof ipaddr.IPv6 && literal.isIPv4MappedAddress() ? literal.toIPv4Address() : literal;
  return address.toNormalizedString();
}

/** An allowlist (host names, IPs, CIDR ranges) and the forbidden ranges it overrides. */
export class AddressPolicy {
  private readonly names = new Set<string>();
  private readonly ranges: Range[] = [];

  /** Throws on an entry that is neither a CIDR, an IP nor a host name. */
  constructor(entries: readonly string[]) {
    for (const entry of entries) {
      if (entry.includes('/')) {
        if (!ipaddr.isValidCIDR(entry)) throw new Error(`Invalid allowlist CIDR: "${entry}"`);
        this.ranges.push(ipaddr.parseCIDR(entry));
        continue;
      }
      if (ipaddr.IPv6.isValid(entry)) {
        this.ranges.push([ipaddr.IPv6.parse(entry), 128]);
        continue;
      }
      const host = stripTrailingDot(domainToASCII(entry));
      if (host === '') throw new Error(`Invalid allowlist entry: "${entry}"`);
      if (ipaddr.IPv4.isValidFourPartDecimal(host)) this.ranges.push([ipaddr.IPv4.parse(host), 32]);
      else this.names.add(host);
    }
  }

  /** A host name the allowlist names: allowed whatever it resolves to. */
  allowsName(host: string): boolean {
    return this.names.has(stripTrailingDot(host).toLowerCase());
  }

  isMetadataHost(host: string): boolean {
    return METADATA_HOSTS.has(stripTrailingDot(host).toLowerCase());
  }

  /** Why connecting to `address` is refused ("a loopback", ...), or undefined when it is allowed. */
  refusal(address: Address | string): string | undefined {
    // Parsed here even when given an address object: another copy of ipaddr.js fails instanceof.
    const parsed = ipaddr.parse(address.toString());
    const unwrapped = ipaddr.process(parsed.toString());
    const ranges = { allowed: this.ranges };
    if (ipaddr.subnetMatch(parsed, ranges, '') || ipaddr.subnetMatch(unwrapped, ranges, '')) return undefined;
    return forbiddenLabel(parsed);
  }
}

/** Parses an allowlist setting (comma-separated); throws on an entry that is neither a CIDR, an IP nor a host name. */
export function parsePolicyList(raw: string | undefined): string[] {
  const entries = (raw ?? '')
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '');
  new AddressPolicy(entries);
  return entries;
}

function forbiddenLabel(address: Address): string | undefined {
  if (METADATA_ADDRESSES.includes(address.toString())) return 'a cloud metadata';
  if (address.kind() === 'ipv4') {
    const range = address.range();
    return range === 'unicast' ? undefined : (RANGE_LABELS[range] ?? 'a reserved');
  }
  const v6 = address as ipaddr.IPv6;
  const embedded = embeddedIPv4(v6);
  if (embedded.length > 0) return embedded.map(forbiddenLabel).find((label) => label !== undefined);
  const range = v6.range();
  // ipaddr.js calls anything it has no name for "unicast" (e.g. ::7f00:1); only 2000::/3 is actually global.
  if (range === 'unicast' && v6.match(GLOBAL_UNICAST_V6)) return undefined;
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

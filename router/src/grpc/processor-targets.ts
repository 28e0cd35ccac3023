import dns from 'node:dns';
import net from 'node:net';

/**
 * One entry of PROCESSOR_ADDR: a processor's `host:port`, or a DNS name that stands for
 * several (`dns:///processors:50051`, or `dns://1.2.3.4:53/processors:50051` to ask one DNS
 * server, with GRPC_NODE_USE_ALTERNATIVE_RESOLVER=true as grpc-js needs), written as grpc-js
 * writes its targets.
 */
export type ProcessorTarget = { kind: 'address'; address: string } | { kind: 'dns'; target: string; host: string; port: number; dnsServer?: string };

const DNS_TARGET = /^dns:\/\/([^/]*)\/(.+)$/;

function hostPort(value: string, entry: string): { host: string; port: number } {
  const match = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(value);
  const port = match ? Number(match[2]) : NaN;
  if (!match || !Number.isInteger(port) || port < 1 || port > 65_535) throw new Error(`PROCESSOR_ADDR entry ${JSON.stringify(entry)} must be host:port or dns:///name:port`);
  return { host: match[1].replace(/^\[|\]$/g, ''), port };
}

export function parseProcessorTarget(entry: string): ProcessorTarget {
  const named = DNS_TARGET.exec(entry);
  if (!named) {
    hostPort(entry, entry);
    return { kind: 'address', address: entry };
  }
  const { host, port } = hostPort(named[2], entry);
  if (named[1] && process.env.GRPC_NODE_USE_ALTERNATIVE_RESOLVER !== 'true') {
    // without it grpc-js resolves with the system resolver and ignores the server: the pool would balance over other addresses than it checks
    throw new Error(`PROCESSOR_ADDR entry ${JSON.stringify(entry)} names a DNS server, which grpc-js asks only with GRPC_NODE_USE_ALTERNATIVE_RESOLVER=true`);
  }
  return { kind: 'dns', target: entry, host, port, dnsServer: named[1] || undefined };
}

/** `ip:port` as grpc-js names a peer (`[ip]:port` for IPv6), so that peers and resolved addresses compare equal. */
export function formatAddress(ip: string, port: number): string {
  return net.isIPv6(ip) ? `[${ip}]:${port}` : `${ip}:${port}`;
}

/**
 * The addresses a DNS target stands for now, resolved as grpc-js resolves them: the system
 * resolver (getaddrinfo, so /etc/hosts counts) or, when the target names a DNS server, A and
 * AAAA queries to that server.
 */
export async function resolveTarget(target: Extract<ProcessorTarget, { kind: 'dns' }>): Promise<string[]> {
  if (net.isIP(target.host)) return [formatAddress(target.host, target.port)];
  if (!target.dnsServer) {
    const found = await dns.promises.lookup(target.host, { all: true });
    return [...new Set(found.map((a) => formatAddress(a.address, target.port)))];
  }
  const resolver = new dns.promises.Resolver();
  resolver.setServers([target.dnsServer]);
  const families = await Promise.allSettled([resolver.resolve4(target.host), resolver.resolve6(target.host)]);
  const ips = families.flatMap((f) => (f.status === 'fulfilled' ? f.value : []));
  if (ips.length === 0) throw new Error(`${target.host} has no address at ${target.dnsServer}`);
  return ips.map((ip) => formatAddress(ip, target.port));
}

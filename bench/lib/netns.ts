import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { curlGetter } from './client';
import { LOCAL, inNamespace, run } from './host';
import { LinkCounters, Topology } from './topology';

/**
 * A small network made of namespaces this benchmark creates and removes: a switch (a bridge
 * in its own namespace) and one namespace per machine (client, router, processor, store),
 * each joined to the switch by a veth pair whose two ends are both limited by a token
 * bucket (tc tbf) to `rateMbit`: every machine has a full-duplex link of that speed, so every
 * hop (client → router, router → processor, client → store, store → processor) runs at
 * that rate. Addresses come from 198.18.0.0/15, the range set aside for benchmarks (RFC 2544);
 * the namespaces have no route out, so no packet leaves them.
 */

const PREFIX = 'artbench-';
const ROLES = ['client', 'router', 'processor', 'store'] as const;
type Role = (typeof ROLES)[number];
const IPS: Record<Role, string> = { client: '198.18.0.1', router: '198.18.0.2', processor: '198.18.0.3', store: '198.18.0.4' };

export interface Lab {
  switchNs: string;
  namespaces: Record<Role, string>;
  rateMbit: number;
  topology: Topology;
  /** `tc qdisc show` of every namespace, for the record. */
  qdiscs: string;
  teardown(): void;
}

const active = new Set<Lab>();

function ns(name: string): string {
  return `${PREFIX}${process.pid}-${name}`;
}

function sh(args: string[]): Promise<unknown> {
  return run(LOCAL, args[0], args.slice(1));
}

function deleteNamespaces(names: readonly string[]): void {
  for (const name of names) {
    try {
      execFileSync('ip', ['netns', 'del', name], { stdio: 'ignore' });
    } catch {
      // not there
    }
  }
}

/** Namespaces left by an earlier run of this benchmark whose process is gone. */
export function removeStaleNamespaces(): string[] {
  let names: string[] = [];
  try {
    names = fs.readdirSync('/run/netns').filter((n) => n.startsWith(PREFIX));
  } catch {
    return [];
  }
  const stale = names.filter((n) => {
    const pid = Number(n.slice(PREFIX.length).split('-')[0]);
    return !Number.isInteger(pid) || !fs.existsSync(`/proc/${pid}`);
  });
  deleteNamespaces(stale);
  return stale;
}

/** Why namespaces with rate-limited veth links cannot be made here, or undefined when they can (tried for real). */
export async function unavailableReason(): Promise<string | undefined> {
  if (process.platform !== 'linux') return `needs Linux, this is ${process.platform}`;
  if (typeof process.getuid === 'function' && process.getuid() !== 0) return 'needs root (ip netns, tc)';
  for (const tool of ['ip', 'tc', 'curl']) {
    try {
      execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    } catch {
      return `${tool} is not installed`;
    }
  }
  const probe = ns('probe');
  try {
    await sh(['ip', 'netns', 'add', probe]);
    await sh(['ip', '-n', probe, 'link', 'add', 'a0', 'type', 'veth', 'peer', 'name', 'b0']);
    await sh(['ip', '-n', probe, 'link', 'add', 'br0', 'type', 'bridge']);
    await sh(['tc', '-n', probe, 'qdisc', 'add', 'dev', 'a0', 'root', 'tbf', 'rate', '100mbit', 'burst', '64kb', 'latency', '50ms']);
    return undefined;
  } catch (err) {
    return `the kernel or the sandbox refused: ${(err as Error).message.split('\n').slice(-1)[0]}`;
  } finally {
    deleteNamespaces([probe]);
  }
}

async function linkCounters(namespace: string): Promise<LinkCounters> {
  const { stdout } = await run(LOCAL, 'ip', ['-n', namespace, '-s', '-j', 'link', 'show', 'dev', 'eth0']);
  const parsed = JSON.parse(stdout) as { stats64?: { rx?: { bytes?: number }; tx?: { bytes?: number } } }[];
  const stats = parsed[0]?.stats64;
  return { rxBytes: stats?.rx?.bytes ?? Number.NaN, txBytes: stats?.tx?.bytes ?? Number.NaN };
}

export async function createLab(rateMbit: number): Promise<Lab> {
  const switchNs = ns('sw');
  const namespaces = Object.fromEntries(ROLES.map((r) => [r, ns(r)])) as Record<Role, string>;
  const all = [switchNs, ...Object.values(namespaces)];
  const lab: Lab = {
    switchNs,
    namespaces,
    rateMbit,
    qdiscs: '',
    topology: {
      name: `netns-${rateMbit}mbit`,
      client: inNamespace(namespaces.client),
      router: inNamespace(namespaces.router),
      processor: inNamespace(namespaces.processor),
      store: inNamespace(namespaces.store),
      bind: '0.0.0.0',
      routerIp: IPS.router,
      processorIp: IPS.processor,
      storeIp: IPS.store,
      processorGetter: curlGetter(inNamespace(namespaces.processor)),
      settlePollMs: 20,
      routerLink: () => linkCounters(namespaces.router),
      description: `client, router(s), processor and store each in a network namespace of their own, joined by a bridge; each one's link limited to ${rateMbit} Mbit/s each way (tc tbf on both ends of its veth pair)`,
    },
    teardown: () => {
      active.delete(lab);
      deleteNamespaces(all);
    },
  };
  active.add(lab);
  try {
    for (const name of all) await sh(['ip', 'netns', 'add', name]);
    await sh(['ip', '-n', switchNs, 'link', 'add', 'br0', 'type', 'bridge']);
    await sh(['ip', '-n', switchNs, 'link', 'set', 'br0', 'up']);
    const tbf = ['root', 'tbf', 'rate', `${rateMbit}mbit`, 'burst', '64kb', 'latency', '50ms'];
    for (const role of ROLES) {
      const host = namespaces[role];
      const port = `p-${role}`;
      await sh(['ip', 'link', 'add', 'eth0', 'netns', host, 'type', 'veth', 'peer', 'name', port, 'netns', switchNs]);
      await sh(['ip', '-n', switchNs, 'link', 'set', port, 'master', 'br0']);
      await sh(['ip', '-n', switchNs, 'link', 'set', port, 'up']);
      await sh(['ip', '-n', host, 'addr', 'add', `${IPS[role]}/24`, 'dev', 'eth0']);
      await sh(['ip', '-n', host, 'link', 'set', 'eth0', 'up']);
      await sh(['ip', '-n', host, 'link', 'set', 'lo', 'up']);
      await sh(['tc', '-n', host, 'qdisc', 'add', 'dev', 'eth0', ...tbf]);
      await sh(['tc', '-n', switchNs, 'qdisc', 'add', 'dev', port, ...tbf]);
    }
    const shows = await Promise.all(all.map(async (name) => `${name}: ${(await run(LOCAL, 'tc', ['-n', name, 'qdisc', 'show'])).stdout.trim().replace(/\n/g, '; ')}`));
    lab.qdiscs = shows.join('\n');
    return lab;
  } catch (err) {
    lab.teardown();
    throw err;
  }
}

/** For exit handlers: removes every namespace this process still has. */
export function teardownAll(): void {
  for (const lab of [...active]) lab.teardown();
}

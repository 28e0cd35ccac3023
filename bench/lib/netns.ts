import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { curlGetter } from './client';
import { Host, LOCAL, inNamespace, run } from './host';
import { LinkCounters, Topology } from './topology';

/**
 * Hosts on this machine, each a network namespace this process creates and removes, joined
 * by a switch (a bridge in a namespace of its own) through one veth pair per host. The
 * switch-side end of a host's pair is its "cable": taking it down cuts the host off (its
 * TCP connections hang, nothing resets them), as a pulled cable or a dead switch port does.
 * Optionally every link is limited by a token bucket (tc tbf on both ends, `rateMbit` each
 * way), and optionally this process's own namespace joins the switch too (`joinRoot`), so
 * that the test or the benchmark reaches every host directly, without a client process in a
 * namespace. Addresses come from 198.18.0.0/15, the range set aside for benchmarks (RFC 2544);
 * the namespaces have no route out, so no packet leaves them.
 *
 * Used by the benchmark (bench/net.ts and the `hosts` section) and by the multi-host test
 * (router/test/hosts), through bench/lib/hosts.ts.
 */

const PREFIX = 'artlab-';
/** Root-namespace end of a joined lab's veth pair: `al<pid>x<lab>` (at most 15 characters). */
const ROOT_LINK = /^al(\d+)x\d+$/;
const ETC_NETNS = '/etc/netns';

export interface LabHost {
  /** The name the lab was given for it (`router`, `p1`, ...). */
  name: string;
  ns: string;
  ip: string;
  /** Where commands run on it. */
  host: Host;
  /** Its port on the switch (the switch-side end of its veth pair). */
  port: string;
}

export interface LabOptions {
  /** Host names, in address order: the first gets .1, the next .2, ... */
  hosts: readonly string[];
  /** Limit every link to this many Mbit/s each way (tc tbf); unlimited when absent. */
  rateMbit?: number;
  /** Join this process's own namespace to the switch (address .254), so it reaches every host itself. */
  joinRoot?: boolean;
}

export interface Lab {
  switchNs: string;
  /** 198.18.N.0/24 */
  subnet: string;
  hosts: Record<string, LabHost>;
  /** This process's address on the switch, when joined. */
  rootIp?: string;
  rateMbit?: number;
  /** `tc qdisc show` of every namespace, for the record. */
  qdiscs: string;
  /** Every namespace of the lab, the switch first. */
  namespaces: string[];
  /** Takes a host's switch port down: the host is cut off, its connections hang. */
  cut(name: string): Promise<void>;
  /** Brings a host's switch port back up. */
  restore(name: string): Promise<void>;
  /**
   * Writes `/etc/netns/<ns>/hosts` of a host: `ip netns exec` bind-mounts it over /etc/hosts
   * for every process started there, so `names` resolve (several addresses per name allowed).
   * Must be written before the processes that read it start.
   */
  writeHosts(name: string, names: Record<string, readonly string[]>): void;
  /** Counters of a host's interface. */
  linkCounters(name: string): Promise<LinkCounters>;
  /** Removes the namespaces, the joined link and the /etc/netns entries; synchronous, idempotent. */
  teardown(): void;
}

const active = new Set<Lab>();
let labsMade = 0;

function sh(args: string[]): Promise<unknown> {
  return run(LOCAL, args[0], args.slice(1));
}

function quiet(args: string[]): void {
  try {
    execFileSync(args[0], args.slice(1), { stdio: 'ignore' });
  } catch {
    // not there
  }
}

function deleteNamespaces(names: readonly string[]): void {
  for (const name of names) {
    quiet(['ip', 'netns', 'del', name]);
    fs.rmSync(path.join(ETC_NETNS, name), { recursive: true, force: true });
  }
  try {
    fs.rmdirSync(ETC_NETNS); // only when empty: other namespaces' files stay
  } catch {
    // not empty, or not there
  }
}

const pidGone = (pid: number) => !Number.isInteger(pid) || !fs.existsSync(`/proc/${pid}`);
const pidOf = (name: string) => Number(name.slice(PREFIX.length).split('-')[0]);

/** Namespaces, /etc/netns entries and joined links left by an earlier lab whose process is gone. */
export function removeStaleNamespaces(): string[] {
  const list = (dir: string) => {
    try {
      return fs.readdirSync(dir).filter((n) => n.startsWith(PREFIX));
    } catch {
      return [];
    }
  };
  const stale = [...new Set([...list('/run/netns'), ...list(ETC_NETNS)])].filter((n) => pidGone(pidOf(n)));
  let links: string[] = [];
  try {
    const parsed = JSON.parse(execFileSync('ip', ['-j', 'link', 'show'], { encoding: 'utf8' })) as { ifname?: string }[];
    links = parsed.map((l) => l.ifname ?? '').filter((n) => ROOT_LINK.test(n) && pidGone(Number(ROOT_LINK.exec(n)![1])));
  } catch {
    // no ip, or no JSON output
  }
  for (const link of links) quiet(['ip', 'link', 'del', link]);
  deleteNamespaces(stale);
  return [...stale, ...links];
}

/** Why a lab cannot be made here, from what can be seen without trying (platform, user, tools), or undefined. */
export function labUnavailableQuick(tools: readonly string[] = ['ip', 'tc', 'curl']): string | undefined {
  if (process.platform !== 'linux') return `needs Linux, this is ${process.platform}`;
  if (typeof process.getuid === 'function' && process.getuid() !== 0) return 'needs root (ip netns, tc)';
  for (const tool of tools) {
    try {
      execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    } catch {
      return `${tool} is not installed`;
    }
  }
  return undefined;
}

/** Why namespaces with rate-limited veth links cannot be made here, or undefined when they can (tried for real). */
export async function unavailableReason(tools?: readonly string[]): Promise<string | undefined> {
  const quick = labUnavailableQuick(tools);
  if (quick) return quick;
  const probe = `${PREFIX}${process.pid}-probe`;
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

/**
 * The third octet of the lab's 198.18.N.0/24. A lab of its own namespaces only (not joined)
 * uses 0 (nothing else sees it); a joined one a block no route of this namespace and no other
 * lab of this process uses.
 */
function subnetIndex(joinRoot: boolean): number {
  if (!joinRoot) return 0;
  let routes = '';
  try {
    routes = execFileSync('ip', ['-4', 'route', 'show'], { encoding: 'utf8' });
  } catch {
    // none readable: rely on the pid
  }
  const taken = new Set([...active].map((l) => l.subnet));
  for (let i = 0; i < 254; i++) {
    const n = ((process.pid + i) % 254) + 1;
    const subnet = `198.18.${n}.0/24`;
    if (!taken.has(subnet) && !routes.includes(`198.18.${n}.`)) return n;
  }
  throw new Error('no free 198.18.N.0/24 for the lab');
}

export async function createLab(options: LabOptions): Promise<Lab> {
  removeStaleNamespaces();
  const seq = ++labsMade;
  const ns = (name: string) => `${PREFIX}${process.pid}-${seq}-${name}`;
  const octet = subnetIndex(options.joinRoot ?? false);
  const base = `198.18.${octet}`;
  if (options.hosts.length > 250) throw new Error('at most 250 hosts');
  const hosts: Record<string, LabHost> = {};
  for (const [i, name] of options.hosts.entries()) {
    if (!/^[a-z0-9]{1,12}$/.test(name)) throw new Error(`host name ${JSON.stringify(name)}: 1-12 lower-case letters or digits`);
    if (hosts[name]) throw new Error(`host ${name} named twice`);
    hosts[name] = { name, ns: ns(name), ip: `${base}.${i + 1}`, host: inNamespace(ns(name)), port: `p-${name}` };
  }
  const switchNs = ns('sw');
  const rootLink = options.joinRoot ? `al${process.pid}x${seq}` : undefined;
  const all = [switchNs, ...Object.values(hosts).map((h) => h.ns)];
  const of = (name: string) => {
    const h = hosts[name];
    if (!h) throw new Error(`no host ${name} in the lab`);
    return h;
  };
  const lab: Lab = {
    switchNs,
    subnet: `${base}.0/24`,
    hosts,
    rootIp: rootLink ? `${base}.254` : undefined,
    rateMbit: options.rateMbit,
    qdiscs: '',
    namespaces: all,
    cut: async (name) => void (await sh(['ip', '-n', switchNs, 'link', 'set', of(name).port, 'down'])),
    restore: async (name) => void (await sh(['ip', '-n', switchNs, 'link', 'set', of(name).port, 'up'])),
    writeHosts: (name, names) => {
      const dir = path.join(ETC_NETNS, of(name).ns);
      fs.mkdirSync(dir, { recursive: true });
      const lines = ['127.0.0.1 localhost', '::1 localhost ip6-localhost ip6-loopback', ...Object.entries(names).flatMap(([n, ips]) => ips.map((ip) => `${ip} ${n}`))];
      fs.writeFileSync(path.join(dir, 'hosts'), `${lines.join('\n')}\n`);
    },
    linkCounters: (name) => linkCounters(of(name).ns),
    teardown: () => {
      active.delete(lab);
      // the joined link first, synchronously: the kernel removes a deleted namespace's links later
      if (rootLink) quiet(['ip', 'link', 'del', rootLink]);
      deleteNamespaces(all);
    },
  };
  active.add(lab);
  try {
    for (const name of all) await sh(['ip', 'netns', 'add', name]);
    await sh(['ip', '-n', switchNs, 'link', 'add', 'br0', 'type', 'bridge']);
    await sh(['ip', '-n', switchNs, 'link', 'set', 'br0', 'up']);
    const tbf = options.rateMbit ? ['root', 'tbf', 'rate', `${options.rateMbit}mbit`, 'burst', '64kb', 'latency', '50ms'] : undefined;
    const plug = async (port: string) => {
      await sh(['ip', '-n', switchNs, 'link', 'set', port, 'master', 'br0']);
      await sh(['ip', '-n', switchNs, 'link', 'set', port, 'up']);
      if (tbf) await sh(['tc', '-n', switchNs, 'qdisc', 'add', 'dev', port, ...tbf]);
    };
    for (const h of Object.values(hosts)) {
      await sh(['ip', 'link', 'add', 'eth0', 'netns', h.ns, 'type', 'veth', 'peer', 'name', h.port, 'netns', switchNs]);
      await plug(h.port);
      await sh(['ip', '-n', h.ns, 'addr', 'add', `${h.ip}/24`, 'dev', 'eth0']);
      await sh(['ip', '-n', h.ns, 'link', 'set', 'eth0', 'up']);
      await sh(['ip', '-n', h.ns, 'link', 'set', 'lo', 'up']);
      if (tbf) await sh(['tc', '-n', h.ns, 'qdisc', 'add', 'dev', 'eth0', ...tbf]);
    }
    if (rootLink) {
      await sh(['ip', 'link', 'add', rootLink, 'type', 'veth', 'peer', 'name', 'p-root', 'netns', switchNs]);
      await plug('p-root');
      await sh(['ip', 'addr', 'add', `${lab.rootIp}/24`, 'dev', rootLink]);
      await sh(['ip', 'link', 'set', rootLink, 'up']);
    }
    const shows = await Promise.all(all.map(async (name) => `${name}: ${(await run(LOCAL, 'tc', ['-n', name, 'qdisc', 'show'])).stdout.trim().replace(/\n/g, '; ')}`));
    lab.qdiscs = shows.join('\n');
    return lab;
  } catch (err) {
    lab.teardown();
    throw err;
  }
}

async function linkCounters(namespace: string): Promise<LinkCounters> {
  const { stdout } = await run(LOCAL, 'ip', ['-n', namespace, '-s', '-j', 'link', 'show', 'dev', 'eth0']);
  const parsed = JSON.parse(stdout) as { stats64?: { rx?: { bytes?: number }; tx?: { bytes?: number } } }[];
  const stats = parsed[0]?.stats64;
  return { rxBytes: stats?.rx?.bytes ?? Number.NaN, txBytes: stats?.tx?.bytes ?? Number.NaN };
}

/**
 * The transfer benchmark's lab (bench/net.ts): client, router(s), processor and store, each a
 * host of its own, every link limited to `rateMbit`.
 */
export async function createTransferLab(rateMbit: number): Promise<{ lab: Lab; topology: Topology }> {
  const lab = await createLab({ hosts: ['client', 'router', 'processor', 'store'], rateMbit });
  const h = lab.hosts;
  const topology: Topology = {
    name: `netns-${rateMbit}mbit`,
    client: h.client.host,
    router: h.router.host,
    processor: h.processor.host,
    store: h.store.host,
    bind: '0.0.0.0',
    routerIp: h.router.ip,
    processorIp: h.processor.ip,
    storeIp: h.store.ip,
    processorGetter: curlGetter(h.processor.host),
    settlePollMs: 20,
    routerLink: () => lab.linkCounters('router'),
    description: `client, router(s), processor and store each in a network namespace of their own, joined by a bridge; each one's link limited to ${rateMbit} Mbit/s each way (tc tbf on both ends of its veth pair)`,
  };
  return { lab, topology };
}

/** For exit handlers: removes every namespace this process still has. */
export function teardownAll(): void {
  for (const lab of [...active]) lab.teardown();
}

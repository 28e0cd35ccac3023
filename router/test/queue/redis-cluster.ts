import { ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { Cluster, ClusterOptions, Redis } from 'ioredis';
import { freePort } from '../ports';

const POLL_MS = 100;

interface ClusterNodeProcess {
  port: number;
  server: ChildProcess;
  exited: Promise<unknown>;
}

/** Who serves a slot: its master's port and its replicas' (`CLUSTER SLOTS` of a live node). */
export interface SlotOwners {
  master: number;
  replicas: number[];
}

export interface TestRedisCluster {
  /** Every node, `127.0.0.1:port,...`: what REDIS_CLUSTER_NODES gets. */
  readonly seeds: string;
  /** The ports of the nodes still running. */
  readonly livePorts: number[];
  /** A cluster client of the test's own (close it). */
  connect(options?: ClusterOptions): Cluster;
  /** One command on one node, on a connection of its own. */
  command(port: number, ...args: (string | number)[]): Promise<unknown>;
  /** The master and replicas that serve `key`'s slot now. */
  ownersOf(key: string): Promise<SlotOwners>;
  /**
   * SIGKILLs the master that serves `key`'s slot and waits until another node (its replica) has
   * taken the slot over and every remaining node reports `cluster_state:ok`.
   */
  killMasterOf(key: string, deadlineMs?: number): Promise<{ killed: number; promoted: number }>;
  /** Sends a signal to one node's process (SIGSTOP and SIGCONT freeze and thaw it). */
  signal(port: number, signal: NodeJS.Signals): void;
  /** Kills every node and removes the cluster's folder. */
  stop(): Promise<void>;
}

export function redisClusterUnavailable(): string | undefined {
  for (const binary of ['redis-server', 'redis-cli']) {
    const found = (process.env.PATH ?? '').split(path.delimiter).some((dir) => {
      try {
        fs.accessSync(path.join(dir, binary), fs.constants.X_OK);
        return true;
      } catch {
        return false;
      }
    });
    if (!found) return `${binary} is not installed (Debian: apt-get install redis-server)`;
  }
  return undefined;
}

/** Polls `check` every POLL_MS until it answers true; throws with `what` after `deadlineMs`. */
async function until(what: string, deadlineMs: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  let last: unknown;
  for (;;) {
    try {
      if (await check()) return;
      last = undefined;
    } catch (err) {
      last = err;
    }
    if (Date.now() >= deadline) throw new Error(`redis cluster: ${what} did not happen within ${deadlineMs} ms${last ? ` (last error: ${String(last)})` : ''}`);
    await sleep(POLL_MS);
  }
}

async function startNode(dir: string): Promise<ClusterNodeProcess> {
  const port = await freePort();
  // the cluster bus port is named too: the default, port + 10000, may be past 65535 or taken
  const busPort = await freePort();
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--cluster-enabled',
    'yes',
    '--cluster-port',
    String(busPort),
    '--cluster-config-file',
    path.join(dir, `nodes-${port}.conf`),
    '--cluster-node-timeout',
    '1000',
    '--save',
    '',
    '--appendonly',
    'no',
    // a replica's first sync starts at once (the default waits 5 s for more replicas to share it)
    '--repl-diskless-sync-delay',
    '0',
    // a replica is listed in CLUSTER SLOTS once its replication offset is not 0: with no writes
    // that takes the master's first ping to it (every 10 s by default)
    '--repl-ping-replica-period',
    '1',
    '--dir',
    dir,
  ];
  const server = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = once(server, 'exit');
  const log: string[] = [];
  await new Promise<void>((resolve, reject) => {
    readline.createInterface({ input: server.stdout! }).on('line', (line) => {
      if (log.length < 50) log.push(line);
      if (line.includes('Ready to accept connections')) resolve();
    });
    void exited.then(() => reject(new Error(`redis-server on ${port} exited at start: ${log.slice(-5).join('\n')}`)));
  });
  return { port, server, exited };
}

/**
 * A Redis Cluster of the test's own from Debian's redis-server: `masters` masters with one
 * replica each on free loopback ports (node timeout 1 s, no persistence), made with
 * `redis-cli --cluster create`. Resolves once every node reports `cluster_state:ok`, knows every
 * other node, and every replica's link to its master is up.
 */
export async function startRedisCluster(masters = 3, deadlineMs = 60_000): Promise<TestRedisCluster> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'artorizer-redis-cluster-'));
  const nodes: ClusterNodeProcess[] = [];
  // a test process that ends without stop() (a crash, jest's forced exit) takes its nodes with it
  const killAll = () => {
    for (const node of nodes) if (node.server.exitCode === null && node.server.signalCode === null) node.server.kill('SIGKILL');
  };
  process.once('exit', killAll);
  const stop = async () => {
    killAll();
    process.off('exit', killAll);
    await Promise.all(nodes.map((n) => n.exited));
    fs.rmSync(dir, { recursive: true, force: true });
  };
  const command = async (port: number, ...args: (string | number)[]): Promise<unknown> => {
    const client = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
    client.on('error', () => undefined);
    try {
      await client.connect();
      return await client.call(String(args[0]), ...args.slice(1).map(String));
    } finally {
      client.disconnect();
    }
  };
  const live = () => nodes.filter((n) => n.server.exitCode === null && n.server.signalCode === null);
  const info = async (port: number, section: string) => {
    const text = String(await command(port, section === 'cluster' ? 'CLUSTER' : 'INFO', section === 'cluster' ? 'INFO' : section));
    return Object.fromEntries(
      text
        .split('\r\n')
        .filter((l) => l.includes(':'))
        .map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1)]),
    );
  };
  const slotRanges = async (port: number) => (await command(port, 'CLUSTER', 'SLOTS')) as [number, number, ...[string, number, string][]][];
  /** Every live node: cluster_state ok, its replica link up; with `complete`, it knows all the nodes and a replica for every master. */
  const healthy = async (complete: boolean) => {
    for (const node of live()) {
      const cluster = await info(node.port, 'cluster');
      if (cluster.cluster_state !== 'ok') return false;
      const replication = await info(node.port, 'replication');
      if (replication.role === 'slave' && replication.master_link_status !== 'up') return false;
      if (!complete) continue;
      if (Number(cluster.cluster_known_nodes) < nodes.length) return false;
      if ((await slotRanges(node.port)).some((range) => range.length < 4)) return false;
    }
    return true;
  };
  const ownersOf = async (key: string): Promise<SlotOwners> => {
    const port = live()[0].port;
    const slot = Number(await command(port, 'CLUSTER', 'KEYSLOT', key));
    const ranges = await slotRanges(port);
    const range = ranges.find(([from, to]) => from <= slot && slot <= to);
    if (!range) throw new Error(`no node serves slot ${slot}`);
    const [, , master, ...replicas] = range;
    return { master: master[1], replicas: replicas.map((r) => r[1]) };
  };
  try {
    for (let i = 0; i < masters * 2; i++) nodes.push(await startNode(dir));
    const addresses = nodes.map((n) => `127.0.0.1:${n.port}`);
    await promisify(execFile)('redis-cli', ['--cluster', 'create', ...addresses, '--cluster-replicas', '1', '--cluster-yes'], { timeout: deadlineMs });
    await until('cluster_state:ok on every node, replicas in sync', deadlineMs, () => healthy(true));
    return {
      seeds: addresses.join(','),
      get livePorts() {
        return live().map((n) => n.port);
      },
      connect: (options = {}) =>
        new Cluster(
          live().map((n) => ({ host: '127.0.0.1', port: n.port })),
          options,
        ),
      command,
      ownersOf,
      killMasterOf: async (key, killDeadlineMs = 60_000) => {
        const before = await ownersOf(key);
        const node = nodes.find((n) => n.port === before.master)!;
        node.server.kill('SIGKILL');
        await node.exited;
        let promoted = 0;
        await until(`a replica of ${before.master} taking over`, killDeadlineMs, async () => {
          const now = await ownersOf(key);
          if (now.master === before.master) return false;
          promoted = now.master;
          return (await info(promoted, 'replication')).role === 'master' && (await healthy(false));
        });
        return { killed: before.master, promoted };
      },
      signal: (port, signal) => {
        const node = live().find((n) => n.port === port);
        if (!node) throw new Error(`no live node on ${port}`);
        node.server.kill(signal);
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

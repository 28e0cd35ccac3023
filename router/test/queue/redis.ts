import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import readline from 'node:readline';
import { Redis, RedisOptions } from 'ioredis';
import { RedisConnection, RedisTarget, isCluster, openRedis, parseClusterNodes } from '../../src/redis';
import { freePort } from '../ports';
import { TestRedisCluster, redisClusterUnavailable, startRedisCluster } from './redis-cluster';

export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Why Redis cannot be used here, or undefined when it answers PING (checked synchronously, at load). */
export function redisUnavailable(): string | undefined {
  const { hostname, port } = new URL(REDIS_URL);
  const probe = `const s=require('net').connect(${Number(port || 6379)},${JSON.stringify(hostname)});s.on('connect',()=>s.write('PING\\r\\n'));s.on('data',d=>process.exit(String(d).startsWith('+PONG')?0:1));s.on('error',()=>process.exit(1));setTimeout(()=>process.exit(1),2000);`;
  try {
    execFileSync(process.execPath, ['-e', probe], { stdio: 'ignore' });
    return undefined;
  } catch {
    return `Redis at ${REDIS_URL} does not answer PING`;
  }
}

/** A key prefix no other test run uses. */
export function uniquePrefix(name: string): string {
  return `artorizer-test-${name}-${process.pid}-${Date.now()}`;
}

/** Every key matching a glob pattern: on a cluster, from every master. */
async function keysOf(connection: RedisConnection, pattern: string): Promise<string[]> {
  // a cluster client knows its masters once it is ready
  if (isCluster(connection) && connection.status !== 'ready') await once(connection, 'ready');
  const found: string[] = [];
  for (const node of isCluster(connection) ? connection.nodes('master') : [connection]) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      found.push(...keys);
      cursor = next;
    } while (cursor !== '0');
  }
  return found;
}

/** Deletes every key of a REDIS_PREFIX: the queue's (`{prefix}:...`, see queue/keys.ts) and the others (`prefix:...`). */
async function dropPrefixOn(connection: RedisConnection, prefix: string): Promise<void> {
  // one key a command: on a cluster the keys live in many slots
  const keys = [...(await keysOf(connection, `{${prefix}}*`)), ...(await keysOf(connection, `${prefix}*`))];
  for (let i = 0; i < keys.length; i += 500) await Promise.all(keys.slice(i, i + 500).map((key) => connection.del(key)));
}

/** Deletes every key of a REDIS_PREFIX in the shared Redis (REDIS_URL). */
export async function dropPrefix(prefix: string): Promise<void> {
  const client = new Redis(REDIS_URL);
  try {
    await dropPrefixOn(client, prefix);
  } finally {
    client.disconnect();
  }
}

/**
 * Registers the suite when Redis answers, and also with CI=true (where its absence must fail
 * the run). Otherwise prints the reason and records it in one test.
 */
export function describeWithRedis(name: string, body: () => void): void {
  const reason = redisUnavailable();
  if (reason && process.env.CI !== 'true') {
    process.stderr.write(`\n[${name}] not run: ${reason}\n`);
    describe(name, () => {
      it('needs Redis, which is not reachable on this machine', () => {
        expect(redisUnavailable()).toBe(reason);
      });
    });
    return;
  }
  describe(name, body);
}

/** A redis-server's persistence: none (the default), or an append-only file in `dir`, fsynced before each reply. */
export interface PrivateRedisOptions {
  port?: number;
  aofDir?: string;
}

/**
 * A redis-server of the test's own on a free port (or `port`), for tests that change
 * server-wide state (SCRIPT FLUSH, maxmemory) or stop the server, which the shared Redis must
 * not see. Resolves once it answers. `kill` is a crash (SIGKILL); `stop` a clean shutdown.
 */
export async function startPrivateRedis(options: PrivateRedisOptions = {}): Promise<{ url: string; stop: () => Promise<void>; kill: () => Promise<void> }> {
  const port = options.port ?? (await freePort());
  const persistence = options.aofDir ? ['--appendonly', 'yes', '--appendfsync', 'always', '--dir', options.aofDir] : ['--appendonly', 'no'];
  const server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', ...persistence], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = once(server, 'exit');
  const log: string[] = [];
  await new Promise<void>((resolve, reject) => {
    readline.createInterface({ input: server.stdout! }).on('line', (line) => {
      log.push(line);
      if (line.includes('Ready to accept connections')) resolve();
    });
    void exited.then(() => reject(new Error(`redis-server exited at start: ${log.slice(-5).join('\n')}`)));
  });
  const signal = async (name: NodeJS.Signals) => {
    if (server.exitCode === null && server.signalCode === null) server.kill(name);
    await exited;
  };
  return { url: `redis://127.0.0.1:${port}`, stop: () => signal('SIGTERM'), kill: () => signal('SIGKILL') };
}

/**
 * Where a suite's Redis is: the shared server (REDIS_URL) or a Redis Cluster (its own, started
 * for the suite, or TEST_REDIS_CLUSTER_NODES). Its methods work once the suite's beforeAll hooks
 * have run.
 */
export interface RedisTestTarget {
  readonly kind: 'server' | 'cluster';
  /** REDIS_URL or REDIS_CLUSTER_NODES, for a router's or dispatcher's environment. */
  env(): Record<string, string>;
  target(): RedisTarget;
  /** A connection of the test's own (disconnect it). */
  connect(options?: RedisOptions): RedisConnection;
  /** Keys matching a glob pattern, from every master. */
  keys(pattern: string): Promise<string[]>;
  /** Deletes every key of a REDIS_PREFIX. */
  dropPrefix(prefix: string): Promise<void>;
  /** The cluster the suite started, to kill its nodes (undefined on one server and on TEST_REDIS_CLUSTER_NODES). */
  readonly cluster?: TestRedisCluster;
}

function targetOf(kind: RedisTestTarget['kind'], target: () => RedisTarget, cluster?: () => TestRedisCluster | undefined): RedisTestTarget {
  const withConnection = async <T>(run: (c: RedisConnection) => Promise<T>): Promise<T> => {
    const connection = openRedis(target());
    try {
      return await run(connection);
    } finally {
      connection.disconnect();
    }
  };
  return {
    kind,
    env: (): Record<string, string> => {
      const t = target();
      return t.kind === 'server' ? { REDIS_URL: t.url } : { REDIS_CLUSTER_NODES: t.nodes.map((n) => `${n.host}:${n.port}`).join(',') };
    },
    target,
    connect: (options = {}) => openRedis(target(), options),
    keys: (pattern) => withConnection((c) => keysOf(c, pattern)),
    dropPrefix: (prefix) => withConnection((c) => dropPrefixOn(c, prefix)),
    get cluster() {
      return cluster?.();
    },
  };
}

/** The shared Redis server (REDIS_URL). */
export const serverTarget: RedisTestTarget = targetOf('server', () => ({ kind: 'server', url: REDIS_URL }));

/**
 * A Redis Cluster for a suite: TEST_REDIS_CLUSTER_NODES when set, else a three-master cluster
 * of its own (see startRedisCluster), started in a beforeAll hook and stopped in an afterAll
 * hook registered after `body`'s own, so its clean-up still has the cluster.
 */
export function describeWithRedisCluster(name: string, body: (target: RedisTestTarget) => void): void {
  const external = process.env.TEST_REDIS_CLUSTER_NODES;
  const reason = external ? undefined : redisClusterUnavailable();
  if (reason && process.env.CI !== 'true') {
    process.stderr.write(`\n[${name}] not run: ${reason}\n`);
    describe(name, () => {
      it('needs redis-server and redis-cli, which are not installed here', () => {
        expect(redisClusterUnavailable()).toBe(reason);
      });
    });
    return;
  }
  let cluster: TestRedisCluster | undefined;
  const target = targetOf(
    'cluster',
    () => {
      if (external) return { kind: 'cluster', nodes: parseClusterNodes(external) };
      if (!cluster) throw new Error("the suite's Redis Cluster has not started");
      return { kind: 'cluster', nodes: parseClusterNodes(cluster.seeds) };
    },
    () => cluster,
  );
  describe(name, () => {
    if (!external) {
      beforeAll(async () => {
        cluster = await startRedisCluster();
      }, 90_000);
    }
    body(target);
    afterAll(async () => {
      await cluster?.stop();
    });
  });
}

/** The suite twice: on the shared Redis server, then on a Redis Cluster. */
export function describeEachRedisTarget(name: string, body: (target: RedisTestTarget) => void): void {
  describeWithRedis(`${name}, on one Redis server`, () => body(serverTarget));
  describeWithRedisCluster(`${name}, on a Redis Cluster`, body);
}

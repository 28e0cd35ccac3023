import { Cluster, ClusterOptions, Redis, RedisOptions } from 'ioredis';

/** A Redis Cluster seed node (`host:port`). */
export interface RedisNode {
  host: string;
  port: number;
}

/**
 * Where the queue, the job records, the upload claims, the tus locks and the rate-limit counters
 * live: one Redis server (`REDIS_URL`) or a Redis Cluster named by some of its nodes
 * (`REDIS_CLUSTER_NODES`; the client learns the others, and follows failovers, from them).
 */
export type RedisTarget = { kind: 'server'; url: string } | { kind: 'cluster'; nodes: RedisNode[] };

/** A connection to either kind of target: what every part that sends commands takes. */
export type RedisConnection = Redis | Cluster;

/**
 * `REDIS_CLUSTER_NODES`: `host:port` entries, comma-separated (an IPv6 host in brackets,
 * `[::1]:7000`). Throws on an entry that is not one, and on an empty list.
 */
export function parseClusterNodes(value: string): RedisNode[] {
  const entries = value
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  if (entries.length === 0) throw new Error('REDIS_CLUSTER_NODES must name at least one host:port');
  return entries.map((entry) => {
    const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^\s:[\]/@]+)):(\d{1,5})$/.exec(entry);
    const port = match ? Number(match[3]) : NaN;
    if (!match || port < 1 || port > 65535) throw new Error(`REDIS_CLUSTER_NODES: "${entry}" is not host:port (an IPv6 address in brackets: [::1]:7000)`);
    return { host: match[1] ?? match[2], port };
  });
}

/** The target the environment names; undefined when it names none (no queue). */
export function redisTargetFromEnv(url: string | undefined, clusterNodes: string | undefined): RedisTarget | undefined {
  if (url && clusterNodes) throw new Error('set REDIS_URL (one Redis server) or REDIS_CLUSTER_NODES (the seed nodes of a Redis Cluster), not both');
  if (clusterNodes !== undefined && clusterNodes.trim() !== '') return { kind: 'cluster', nodes: parseClusterNodes(clusterNodes) };
  return url ? { kind: 'server', url } : undefined;
}

/** For logs: the URL without its password, or the seed nodes. */
export function describeTarget(target: RedisTarget): string {
  if (target.kind === 'cluster') return `cluster ${target.nodes.map((n) => (n.host.includes(':') ? `[${n.host}]:${n.port}` : `${n.host}:${n.port}`)).join(',')}`;
  try {
    const url = new URL(target.url);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return 'redis (unparsable URL)';
  }
}

/** How often a cluster client reads the slot table again (masters and their replicas). */
const SLOTS_REFRESH_MS = 5000;

/**
 * Opens a connection to `target` with the same options either way. On a cluster the options
 * go to each node's connection (`redisOptions`), except `enableOfflineQueue`, which the cluster
 * client itself takes, and `enableAutoPipelining`, which a cluster connection drops: ioredis 6
 * batches auto-pipelined commands per node and, when a failover moves a slot, fails a batch's
 * commands with the MOVED reply instead of following it (redis/ioredis#2075, open); a command
 * sent on its own is redirected. Reads go to masters (`scaleReads: 'master'`): a record read
 * right after its write must see it, and replicas lag.
 *
 * The offline queue: one server's holds commands while it connects and fails them after
 * `maxRetriesPerRequest` reconnections. A cluster's has no such limit: with every node lost
 * it would hold commands (a submit, a status read) until the cluster is back, however long.
 * So it holds them until the cluster is first ready, and while it has no node after that,
 * commands fail at once (a failover is not that: the other nodes stay connected, and a
 * command for the lost master's slots is retried until its replica has taken over, or fails
 * after `maxRedirections`).
 */
export function openRedis(target: RedisTarget, options: RedisOptions = {}): RedisConnection {
  if (target.kind === 'server') return new Redis(target.url, options);
  const { enableOfflineQueue, ...nodeOptions } = options;
  delete nodeOptions.enableAutoPipelining;
  const clusterOptions: ClusterOptions = {
    redisOptions: nodeOptions,
    scaleReads: 'master',
    // the slot table is otherwise read again only when a command meets a change (MOVED, a
    // closed node); ReplicaAck needs to know of replicas that joined since
    slotsRefreshInterval: SLOTS_REFRESH_MS,
  };
  if (enableOfflineQueue !== undefined) clusterOptions.enableOfflineQueue = enableOfflineQueue;
  const cluster = new Cluster(
    target.nodes.map(({ host, port }) => ({ host, port })),
    clusterOptions,
  );
  if (enableOfflineQueue !== false) {
    cluster.on('ready', () => (cluster.options.enableOfflineQueue = true));
    cluster.on('close', () => (cluster.options.enableOfflineQueue = false));
  }
  return cluster;
}

export function isCluster(connection: RedisConnection): connection is Cluster {
  return connection instanceof Cluster;
}

/**
 * Redis replication is asynchronous: a write a master acknowledged is lost if the master dies
 * before its replica has it, and the replica takes over. `wait()` asks the master holding
 * `key`'s slot (Redis WAIT) whether a replica has every write this connection sent it, within
 * `timeoutMs`. True on one server (its durability is its own persistence) and on a slot without
 * replicas (nothing could take over); false when no replica acknowledged in time. WAIT counts
 * only this connection's writes and blocks it until it answers: give it a connection of its own.
 */
export class ReplicaAck {
  private slot: number | undefined;

  constructor(
    private readonly connection: RedisConnection,
    private readonly key: string,
    private readonly timeoutMs: number,
  ) {}

  async wait(): Promise<boolean> {
    const cluster = this.connection;
    if (!isCluster(cluster)) return true;
    // a key's slot never changes; the node serving it does
    this.slot ??= Number(await cluster.call('CLUSTER', 'KEYSLOT', this.key));
    const [master, ...listed] = cluster.slots[this.slot] ?? [];
    if (!master) throw new Error(`no node serves the slot of ${this.key}`);
    // after a MOVED the client puts the new master first and keeps the rest, which may name it again
    if (listed.every((replica) => replica === master)) return true;
    // the master's connection in this client's pool: the one the writes went through
    const node = cluster.nodes('master').find((n) => `${n.options.host}:${n.options.port}` === master);
    if (!node) throw new Error(`the master of the slot of ${this.key} (${master}) is not connected`);
    return Number(await node.call('WAIT', 1, this.timeoutMs)) >= 1;
  }
}

import { Cluster, Redis } from 'ioredis';
import { loadConfig } from '../src/config';
import { dispatcherOptions } from '../src/queue/dispatcher';
import { queuePrefix, recordsPrefix } from '../src/queue/keys';
import { describeTarget, openRedis, parseClusterNodes } from '../src/redis';

/* REDIS_URL and REDIS_CLUSTER_NODES: which Redis the queue is on. No Redis is needed here. */
describe('Redis settings', () => {
  it('reads REDIS_CLUSTER_NODES as the seed nodes of a cluster, IPv6 hosts in brackets, spaces and empty entries ignored', () => {
    expect(loadConfig({ REDIS_CLUSTER_NODES: '127.0.0.1:7000, redis-b.internal:7001,,[::1]:7002 ' }).redis).toEqual({
      kind: 'cluster',
      nodes: [
        { host: '127.0.0.1', port: 7000 },
        { host: 'redis-b.internal', port: 7001 },
        { host: '::1', port: 7002 },
      ],
    });
  });

  it('reads REDIS_URL as one server, and neither as no queue', () => {
    expect(loadConfig({ REDIS_URL: 'redis://:secret@10.0.0.5:6380/2' }).redis).toEqual({ kind: 'server', url: 'redis://:secret@10.0.0.5:6380/2' });
    expect(loadConfig({}).redis).toBeUndefined();
    // set but empty is unset
    expect(loadConfig({ REDIS_URL: '', REDIS_CLUSTER_NODES: '' }).redis).toBeUndefined();
  });

  it('refuses to start with both REDIS_URL and REDIS_CLUSTER_NODES', () => {
    expect(() => loadConfig({ REDIS_URL: 'redis://127.0.0.1:6379', REDIS_CLUSTER_NODES: '127.0.0.1:7000' })).toThrow(
      'set REDIS_URL (one Redis server) or REDIS_CLUSTER_NODES (the seed nodes of a Redis Cluster), not both',
    );
  });

  it.each([
    ['redis-a', 'redis-a'],
    ['redis-a:0', 'redis-a:0'],
    ['redis-a:65536', 'redis-a:65536'],
    ['redis-a:port', 'redis-a:port'],
    [':7000', ':7000'],
    ['::1:7000', '::1:7000'],
    ['redis://redis-a:7000', 'redis://redis-a:7000'],
    ['redis-a:7000/0', 'redis-a:7000/0'],
    ['user@redis-a:7000', 'user@redis-a:7000'],
    ['127.0.0.1:7000,redis b:7001', 'redis b:7001'],
  ])('refuses REDIS_CLUSTER_NODES=%s, naming the bad entry', (value, entry) => {
    expect(() => loadConfig({ REDIS_CLUSTER_NODES: value })).toThrow(`REDIS_CLUSTER_NODES: "${entry}" is not host:port`);
  });

  it('refuses a REDIS_CLUSTER_NODES that names no node', () => {
    expect(() => parseClusterNodes(' , ')).toThrow('REDIS_CLUSTER_NODES must name at least one host:port');
    expect(() => loadConfig({ REDIS_CLUSTER_NODES: ',' })).toThrow(/at least one host:port/);
  });

  it('refuses a REDIS_PREFIX with a brace: the prefix is the hash tag of the queue keys', () => {
    expect(() => loadConfig({ REDIS_PREFIX: 'a{b' })).toThrow(/REDIS_PREFIX must not contain/);
    expect(() => loadConfig({ REDIS_PREFIX: 'a}b' })).toThrow(/REDIS_PREFIX must not contain/);
  });

  it('lays out the queue keys under the prefix as a hash tag, for one server and a cluster alike', () => {
    expect(queuePrefix('artorizer')).toBe('{artorizer}');
    expect(recordsPrefix('artorizer')).toBe('{artorizer}:');
    for (const env of [{ REDIS_URL: 'redis://127.0.0.1:6379' }, { REDIS_CLUSTER_NODES: '127.0.0.1:7000' }]) {
      const config = loadConfig(env);
      expect(dispatcherOptions(config, config.redis!)).toMatchObject({ redis: config.redis, prefix: '{artorizer}' });
    }
  });

  it('describes a target for the logs without its password', () => {
    expect(describeTarget({ kind: 'server', url: 'redis://:secret@10.0.0.5:6380/2' })).toBe('redis://:***@10.0.0.5:6380/2');
    expect(
      describeTarget({
        kind: 'cluster',
        nodes: [
          { host: '10.0.0.5', port: 7000 },
          { host: '::1', port: 7001 },
        ],
      }),
    ).toBe('cluster 10.0.0.5:7000,[::1]:7001');
  });

  it('opens one server with ioredis Redis, and a cluster with Cluster: the same options on each node, reads from masters, never auto-pipelined (ioredis#2075)', () => {
    const server = openRedis({ kind: 'server', url: 'redis://127.0.0.1:6379' }, { lazyConnect: true, maxRetriesPerRequest: 3, enableAutoPipelining: true });
    const cluster = openRedis({ kind: 'cluster', nodes: [{ host: '127.0.0.1', port: 7000 }] }, { lazyConnect: true, maxRetriesPerRequest: null, enableAutoPipelining: true });
    try {
      expect(server).toBeInstanceOf(Redis);
      expect(server.options).toMatchObject({ maxRetriesPerRequest: 3, lazyConnect: true, enableAutoPipelining: true });
      expect(cluster).toBeInstanceOf(Cluster);
      expect(cluster.options).toMatchObject({ scaleReads: 'master', enableAutoPipelining: false, enableOfflineQueue: true, redisOptions: { maxRetriesPerRequest: null, lazyConnect: true } });
      // BullMQ reads a cluster's worker options from redisOptions
      expect((cluster as Cluster).options.redisOptions).not.toHaveProperty('enableAutoPipelining');
    } finally {
      server.disconnect();
      cluster.disconnect();
    }
  });
});

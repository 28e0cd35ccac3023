import { Redis } from 'ioredis';
import { EntryTransaction } from '../../src/queue/entry-transaction';
import { queuePrefix } from '../../src/queue/keys';
import { RedisConnection } from '../../src/redis';
import { describeEachRedisTarget, uniquePrefix } from './redis';

/**
 * Functions assigned to each MULTI (rather than shared) give every MULTI its own hidden class in
 * V8's old space, which keeps it, its commands and its replies alive through every young-generation
 * GC: at 1,000 transactions/s that was megabytes copied per scavenge and multi-millisecond pauses.
 * ioredis does this in Pipeline and in multi() (patched in patches/ioredis+*.patch, applied by
 * `npm ci`), and BullMQ's transaction adapter does it too (replaced by EntryTransaction).
 */
describe('no per-instance functions on a MULTI', () => {
  let redis: Redis;

  beforeEach(() => {
    redis = new Redis({ lazyConnect: true });
  });

  afterEach(() => redis.disconnect());

  /**
   * Own accessors, and own functions that shadow a method of the prototype chain, by name: the
   * two kinds measured to give each instance its own hidden class (a plain field holding a
   * fresh function, like a promise's resolve, was not).
   */
  const ownFunctions = (value: object): Map<string, unknown> => {
    const out = new Map<string, unknown>();
    const proto: unknown = Object.getPrototypeOf(value);
    for (const [name, d] of Object.entries(Object.getOwnPropertyDescriptors(value))) {
      if (d.get || d.set) out.set(`${name}:accessor`, d.get ?? d.set);
      else if (typeof d.value === 'function' && typeof proto === 'object' && proto !== null && name in proto) out.set(`${name}:shadows`, d.value);
    }
    return out;
  };

  it("ioredis's MULTI (patched) shares its accessors and method overrides between instances", () => {
    const a = ownFunctions(redis.multi());
    const b = ownFunctions(redis.multi());
    expect([...a.keys()]).toEqual([...b.keys()]);
    expect(a.size).toBeGreaterThan(0);
    for (const [name, f] of a) expect({ name, shared: b.get(name) === f }).toEqual({ name, shared: true });
  });

  it('EntryTransaction keeps every function on its prototype', () => {
    const tx = new EntryTransaction(redis);
    const own = Object.values(Object.getOwnPropertyDescriptors(tx)).filter((d) => typeof d.value === 'function' || d.get || d.set);
    expect(own).toEqual([]);
    expect(() => tx.runCommand('noSuchCommand', [])).toThrow(/noSuchCommand/);
  });
});

/* Every IRedisTransaction method BullMQ may call, through EntryTransaction, on real Redis. */
describeEachRedisTarget('EntryTransaction on Redis', (target) => {
  let redis: RedisConnection;
  let prefix: string;

  beforeEach(() => {
    prefix = uniquePrefix('entry-tx');
    redis = target.connect({ maxRetriesPerRequest: 1 });
  });

  afterEach(async () => {
    redis.disconnect();
    await target.dropPrefix(prefix);
  });

  it('queues each command with the arguments BullMQ gives it and returns the replies in order', async () => {
    redis.defineCommand('echoKey', { lua: 'return KEYS[1]', numberOfKeys: 1 });
    // one hash tag, as the queue's keys have: a cluster runs a MULTI on the keys of one slot
    const k = (name: string) => `${queuePrefix(prefix)}:${name}`;
    await redis.multi().rpush(k('list'), 'a', 'b').sadd(k('set'), 'm').zadd(k('zset'), 1, 'z1', 2, 'z2').exec();
    const tx = new EntryTransaction(redis)
      .runCommand('echoKey', [k('echo')])
      .hset(k('hash'), { f: 'v', n: 2 })
      .hgetall(k('hash'))
      .hscan(k('hash'), 0, { COUNT: 10 })
      .smembers(k('set'))
      .sscan(k('set'), '0')
      .zrange(k('zset'), 0, -1)
      .lrange(k('list'), 0, -1)
      .llen(k('list'))
      .del(k('list'), k('set'));
    const replies = await tx.exec();
    expect(replies?.map(([err]) => err)).toEqual(Array(10).fill(null));
    expect(replies?.map(([, value]) => value)).toEqual([k('echo'), 2, { f: 'v', n: '2' }, ['0', ['f', 'v', 'n', '2']], ['m'], ['0', ['m']], ['z1', 'z2'], ['a', 'b'], 2, 2]);
  });
});

import { Redis } from 'ioredis';
import { EntryTransaction } from '../../src/queue/entry-transaction';

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

  it('EntryTransaction adds no function of its own and forwards BullMQ-style commands to the MULTI', async () => {
    redis.defineCommand('echoKey', { lua: 'return KEYS[1]', numberOfKeys: 1 });
    const tx = new EntryTransaction(redis);
    expect(ownFunctions(tx).size).toBe(0);
    expect(tx.runCommand('echoKey', ['k']).del('a', 'b')).toBe(tx);
    expect(() => tx.runCommand('noSuchCommand', [])).toThrow(/noSuchCommand/);
  });
});

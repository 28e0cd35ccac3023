import { IRedisTransaction } from 'bullmq';
import { ChainableCommander } from 'ioredis';
import { RedisConnection } from '../redis';

type Reply = [Error | null, unknown][] | null;

/**
 * A MULTI on one connection, in the shape BullMQ writes a job into (IRedisTransaction). BullMQ's
 * own adapter (`createIORedisClient(c).multi()`) assigns fresh closures to every MULTI it makes;
 * V8 then gives each MULTI a hidden class of its own in old space, which keeps the MULTI, its
 * commands and its replies alive through every young-generation GC until the next full one.
 * Here the methods live on the prototype.
 */
export class EntryTransaction implements IRedisTransaction {
  private readonly multi: ChainableCommander;

  constructor(readonly connection: RedisConnection) {
    this.multi = connection.multi();
  }

  runCommand(name: string, args: unknown[]): this {
    const command: unknown = (this.multi as unknown as Record<string, unknown>)[name];
    if (typeof command !== 'function') throw new Error(`the Redis command ${name} is not defined on this connection`);
    (command as (this: ChainableCommander, args: unknown[]) => unknown).call(this.multi, args);
    return this;
  }

  hgetall(key: string): this {
    this.multi.hgetall(key);
    return this;
  }

  hset(key: string, data: Record<string, string | number>): this {
    this.multi.hset(key, data);
    return this;
  }

  hscan(key: string, cursor: string | number, options?: { COUNT?: number }): this {
    if (typeof options?.COUNT === 'number') this.multi.hscan(key, String(cursor), 'COUNT', options.COUNT);
    else this.multi.hscan(key, String(cursor));
    return this;
  }

  smembers(key: string): this {
    this.multi.smembers(key);
    return this;
  }

  sscan(key: string, cursor: string | number, options?: { COUNT?: number }): this {
    if (typeof options?.COUNT === 'number') this.multi.sscan(key, String(cursor), 'COUNT', options.COUNT);
    else this.multi.sscan(key, String(cursor));
    return this;
  }

  zrange(key: string, start: number, end: number): this {
    this.multi.zrange(key, String(start), String(end));
    return this;
  }

  lrange(key: string, start: number, end: number): this {
    this.multi.lrange(key, start, end);
    return this;
  }

  llen(key: string): this {
    this.multi.llen(key);
    return this;
  }

  del(...keys: string[]): this {
    this.multi.del(...keys);
    return this;
  }

  exec(): Promise<Reply> {
    return this.multi.exec();
  }
}

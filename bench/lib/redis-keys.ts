import { Redis } from 'ioredis';

/** The keys of a REDIS_PREFIX, a SCAN batch at a time: `prefix:...`, and the queue's `{prefix}:...` (its hash tag). */
async function* keysUnder(redis: Redis, prefix: string): AsyncGenerator<string[]> {
  for (const pattern of [`${prefix}:*`, `{${prefix}}:*`]) {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) yield keys;
    } while (cursor !== '0');
  }
}

/** Deletes every key of a prefix (SCAN + UNLINK); returns how many. */
export async function deletePrefix(redis: Redis, prefix: string): Promise<number> {
  let deleted = 0;
  for await (const keys of keysUnder(redis, prefix)) deleted += await redis.unlink(...keys);
  return deleted;
}

export async function countPrefix(redis: Redis, prefix: string): Promise<number> {
  let count = 0;
  for await (const keys of keysUnder(redis, prefix)) count += keys.length;
  return count;
}

/** The Redis server's pid and version, if it answers INFO. */
export async function serverInfo(redis: Redis): Promise<{ pid?: number; version?: string }> {
  const info = await redis.info('server');
  const field = (name: string) => new RegExp(`^${name}:(.*)$`, 'm').exec(info)?.[1]?.trim();
  const pid = Number(field('process_id'));
  return { pid: Number.isInteger(pid) ? pid : undefined, version: field('redis_version') };
}

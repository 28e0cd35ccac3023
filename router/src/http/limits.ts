import { createHash } from 'node:crypto';
import { NextFunction, Request, RequestHandler, Response } from 'express';
import { ipKeyGenerator, rateLimit } from 'express-rate-limit';
import { RedisReply, RedisStore, SendCommandFn } from 'rate-limit-redis';
import { RedisConnection } from '../redis';
import { apiKeyOf } from './authenticate';

/** Who a limit counts: the API key, or the client address on an open router. */
export function requester(req: Request): string {
  const key = apiKeyOf(req);
  return key ? `key:${key.name}` : `ip:${ipKeyGenerator(req.ip ?? '')}`;
}

export interface SubmitLimitOptions {
  /** Per API key (0: no per-key limit). */
  perMinute: number;
  /** Per client address, whatever the key (0: none). */
  perAddressPerMinute: number;
  /** Shared by every router when set; in this process otherwise. */
  redis?: RedisConnection;
  redisPrefix: string;
}

/**
 * Job and upload creations per minute, counted per API key and, separately, per client
 * address (a stolen key used from many places, many keys from one place): 429 with
 * `RateLimit-*` headers (IETF draft 6) and `Retry-After`.
 */
export function submitRateLimits(options: SubmitLimitOptions): RequestHandler[] {
  const limiter = (name: 'key' | 'address', limit: number, keyGenerator: (req: Request) => string | undefined) =>
    rateLimit({
      windowMs: 60_000,
      limit,
      standardHeaders: 'draft-6',
      legacyHeaders: false,
      // the client address is Express's req.ip: TRUST_PROXY says which X-Forwarded-For hops count
      validate: { xForwardedForHeader: false },
      skip: (req) => keyGenerator(req) === undefined,
      keyGenerator: (req) => keyGenerator(req)!,
      message: { error: `too many submits: at most ${limit} a minute per ${name === 'key' ? 'API key' : 'client address'}; retry after the time in Retry-After` },
      store: options.redis ? new RedisStore({ prefix: `${options.redisPrefix}:rate:${name}:`, sendCommand: rateLimitCommands(options.redis) }) : undefined,
    });
  const limiters: RequestHandler[] = [];
  if (options.perMinute > 0) limiters.push(limiter('key', options.perMinute, (req) => apiKeyOf(req)?.name));
  if (options.perAddressPerMinute > 0) limiters.push(limiter('address', options.perAddressPerMinute, (req) => ipKeyGenerator(req.ip ?? '')));
  return limiters;
}

/**
 * rate-limit-redis's commands on an ioredis connection (one server or a cluster). The library
 * loads its scripts with SCRIPT LOAD and runs them with EVALSHA; on a Redis Cluster the load
 * goes to any node and the EVALSHA to the key's node, which may not have the script (NOSCRIPT,
 * and the library's reload lands on any node again). So SCRIPT LOAD is answered here (the
 * script's SHA-1; the script is kept), and an EVALSHA that finds no script is sent again as
 * EVAL, which runs it on the key's node and leaves it cached there.
 */
export function rateLimitCommands(redis: RedisConnection): SendCommandFn {
  const scripts = new Map<string, string>();
  return async (command: string, ...args: string[]): Promise<RedisReply> => {
    const name = command.toUpperCase();
    if (name === 'SCRIPT' && args[0]?.toUpperCase() === 'LOAD' && args.length === 2) {
      const sha = createHash('sha1').update(args[1]).digest('hex');
      scripts.set(sha, args[1]);
      return sha;
    }
    try {
      return (await redis.call(command, ...args)) as RedisReply;
    } catch (err) {
      const script = name === 'EVALSHA' ? scripts.get(args[0]) : undefined;
      if (!script || !(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
      return (await redis.call('EVAL', script, ...args.slice(1))) as RedisReply;
    }
  };
}

/**
 * At most `max` requests of one kind open at once per requester, in this router process
 * (uploads in flight, event streams): 429 with `Retry-After` above it.
 */
export function concurrencyCap(what: string, max: number, retryAfterSeconds: number): RequestHandler {
  const open = new Map<string, number>();
  return (req: Request, res: Response, next: NextFunction) => {
    const who = requester(req);
    const count = open.get(who) ?? 0;
    if (count >= max) {
      res.setHeader('Retry-After', String(retryAfterSeconds));
      res.setHeader('RateLimit-Limit', String(max));
      res.setHeader('RateLimit-Remaining', '0');
      res.setHeader('RateLimit-Reset', String(retryAfterSeconds));
      if (!req.complete) res.setHeader('Connection', 'close');
      res.status(429).json({ error: `too many ${what} open at once (at most ${max}); retry when one has ended` });
      return;
    }
    open.set(who, count + 1);
    res.once('close', () => {
      const left = (open.get(who) ?? 1) - 1;
      if (left === 0) open.delete(who);
      else open.set(who, left);
    });
    next();
  };
}

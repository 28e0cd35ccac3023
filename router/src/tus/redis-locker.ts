import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { ERRORS, Lock, Locker, RequestRelease } from '@tus/utils';
import { RedisConnection } from '../redis';

export interface RedisLockerOptions {
  /** How long a lock outlives a holder that stopped renewing it (a router killed mid-upload). */
  ttlMs: number;
  /** How long a request waits for a lock before it fails (tus answers 500, clients retry). */
  acquireTimeoutMs: number;
  /** Key and channel prefix, ending in ':'. */
  prefix: string;
}

const RELEASE_IF_HELD = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;
const RENEW_IF_HELD = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0`;

interface LockScripts {
  artorizerTusRelease(key: string, token: string): Promise<number>;
  artorizerTusRenew(key: string, token: string, ttlMs: number): Promise<number>;
}

/**
 * tus upload locks shared by every router on one Redis, so that an upload resumed through
 * another router never has two writers. A lock is a key with a TTL that its holder renews;
 * one killed mid-upload lets it lapse within `ttlMs`. A request waiting for a lock asks the
 * holder, wherever it runs, to let go (tus's "request release": the holder ends its request
 * early), over one pub/sub channel.
 */
export class RedisLocker implements Locker {
  private readonly releaseRequests = new Map<string, RequestRelease>();
  private readonly scripts: LockScripts;
  private readonly channel: string;

  constructor(
    private readonly redis: RedisConnection,
    private readonly subscriber: RedisConnection,
    private readonly options: RedisLockerOptions,
  ) {
    this.channel = `${options.prefix}tus-lock-release`;
    redis.defineCommand('artorizerTusRelease', { numberOfKeys: 1, lua: RELEASE_IF_HELD });
    redis.defineCommand('artorizerTusRenew', { numberOfKeys: 1, lua: RENEW_IF_HELD });
    this.scripts = redis as unknown as LockScripts;
    subscriber.on('message', (channel: string, id: string) => {
      if (channel === this.channel) void this.releaseRequests.get(id)?.();
    });
  }

  /**
   * Subscribes to release requests, without waiting: a router starts and serves while Redis is
   * away, and ioredis subscribes again on every reconnect.
   */
  start(onError: (err: unknown) => void): void {
    this.subscriber.subscribe(this.channel).catch(onError);
  }

  newLock(id: string): Lock {
    return new RedisLock(this, id);
  }

  key(id: string): string {
    return `${this.options.prefix}tus-lock:${id}`;
  }

  get settings(): RedisLockerOptions {
    return this.options;
  }

  async tryAcquire(id: string, token: string): Promise<boolean> {
    return (await this.redis.set(this.key(id), token, 'PX', this.options.ttlMs, 'NX')) === 'OK';
  }

  renew(id: string, token: string): Promise<number> {
    return this.scripts.artorizerTusRenew(this.key(id), token, this.options.ttlMs);
  }

  release(id: string, token: string): Promise<number> {
    return this.scripts.artorizerTusRelease(this.key(id), token);
  }

  async askHolderToRelease(id: string): Promise<void> {
    await this.redis.publish(this.channel, id);
  }

  hold(id: string, requestRelease: RequestRelease): void {
    this.releaseRequests.set(id, requestRelease);
  }

  /** Forgets the holder's callback, unless another lock of this process holds the id by now. */
  letGo(id: string, requestRelease: RequestRelease): void {
    if (this.releaseRequests.get(id) === requestRelease) this.releaseRequests.delete(id);
  }
}

const POLL_MS = 50;
/** A waiter asks the holder to let go again this often (a request sent before the holder was listening is lost). */
const ASK_AGAIN_MS = 1000;

class RedisLock implements Lock {
  private readonly token = randomUUID();
  private renewal?: NodeJS.Timeout;
  private requestRelease?: RequestRelease;

  constructor(
    private readonly locker: RedisLocker,
    private readonly id: string,
  ) {}

  async lock(signal: AbortSignal, requestRelease: RequestRelease): Promise<void> {
    const { acquireTimeoutMs, ttlMs } = this.locker.settings;
    const deadline = Date.now() + acquireTimeoutMs;
    let askedAt = 0;
    while (!(await this.locker.tryAcquire(this.id, this.token))) {
      if (signal.aborted || Date.now() >= deadline) throw ERRORS.ERR_LOCK_TIMEOUT;
      if (Date.now() - askedAt >= ASK_AGAIN_MS) {
        askedAt = Date.now();
        await this.locker.askHolderToRelease(this.id);
      }
      await sleep(POLL_MS);
    }
    this.requestRelease = requestRelease;
    this.locker.hold(this.id, requestRelease);
    let renewedAt = Date.now();
    // A lock this holder no longer has (Redis lost it, or renewals failed for its whole TTL) may
    // be another router's by now: stop writing rather than write beside it.
    const lost = () => {
      clearInterval(this.renewal);
      void requestRelease();
    };
    this.renewal = setInterval(
      () => {
        this.locker.renew(this.id, this.token).then(
          (held) => (held ? (renewedAt = Date.now()) : lost()),
          () => Date.now() - renewedAt >= ttlMs && lost(),
        );
      },
      Math.max(100, Math.floor(ttlMs / 3)),
    );
    this.renewal.unref();
  }

  async unlock(): Promise<void> {
    clearInterval(this.renewal);
    if (this.requestRelease) this.locker.letGo(this.id, this.requestRelease);
    await this.locker.release(this.id, this.token);
  }
}

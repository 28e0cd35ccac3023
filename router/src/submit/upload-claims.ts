import { Redis } from 'ioredis';

/**
 * Direct-upload grants consumed once: the first submit of an `upload_id` claims it, a second
 * gets 409 (unless it repeats the first one's idempotency key: a retry of the same submit).
 * Without it one upload made several jobs, and cancelling one deleted the object the others read.
 */
export interface UploadClaims {
  /** Whether `uploadId` is now this submit's: claimed by it, or earlier under the same non-empty `token`. */
  claim(uploadId: string, token: string): Promise<boolean>;
  /** Gives a claim back after a submit that failed without making a job. */
  release(uploadId: string): Promise<void>;
}

/** Claims in Redis, shared by every router; kept as long as the upload object can exist. */
export class RedisUploadClaims implements UploadClaims {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly ttlSeconds: number,
  ) {}

  private key(uploadId: string): string {
    return `${this.prefix}upload-claim:${uploadId}`;
  }

  async claim(uploadId: string, token: string): Promise<boolean> {
    const value = token || '\0';
    if ((await this.redis.set(this.key(uploadId), value, 'EX', this.ttlSeconds, 'NX')) === 'OK') return true;
    return token !== '' && (await this.redis.get(this.key(uploadId))) === token;
  }

  async release(uploadId: string): Promise<void> {
    await this.redis.del(this.key(uploadId));
  }
}

/** Claims in this process (a router without Redis is one instance); expired after `ttlMs`. */
export class MemoryUploadClaims implements UploadClaims {
  private readonly claims = new Map<string, { token: string; until: number }>();

  constructor(private readonly ttlMs: number) {}

  async claim(uploadId: string, token: string): Promise<boolean> {
    const now = Date.now();
    for (const [id, held] of this.claims) {
      if (held.until > now) break;
      this.claims.delete(id);
    }
    const held = this.claims.get(uploadId);
    if (held) return token !== '' && held.token === token;
    this.claims.set(uploadId, { token, until: now + this.ttlMs });
    return true;
  }

  async release(uploadId: string): Promise<void> {
    this.claims.delete(uploadId);
  }
}

import { Redis } from 'ioredis';
import { ExpiringMap } from './expiring-map';

/** 'repeat': claimed earlier under the same token (a retry of one submit), which `release` must not undo. */
export type ClaimOutcome = 'claimed' | 'repeat' | 'taken' | 'foreign';

/**
 * Direct-upload grants: which API key was given an upload (`grant`, at POST /uploads), and the
 * one submit that consumes it (`claim`). A second submit gets 409 (unless it repeats the first
 * one's idempotency key: a retry of the same submit); another key's upload is 'foreign'.
 * Without it one upload made several jobs, and cancelling one deleted the object the others read.
 */
export interface UploadClaims {
  /** Records that `owner`'s key was given this upload. */
  grant(uploadId: string, owner: string): Promise<void>;
  /**
   * 'claimed' when this submit took `uploadId`; 'repeat' when an earlier submit did under the
   * same non-empty `token`; 'taken' when another submit has it; 'foreign' when `owner` is set and
   * was not the key granted the upload.
   */
  claim(uploadId: string, token: string, owner: string | undefined): Promise<ClaimOutcome>;
  /** Gives a claim back after a submit that failed without making a job. */
  release(uploadId: string): Promise<void>;
}

/**
 * The grant check and the claim in one step: one round trip on the submit's path (it was up
 * to three), and no window between checking the owner and taking the claim.
 */
const CLAIM_SCRIPT = `
if ARGV[1] ~= '' and redis.call('GET', KEYS[1]) ~= ARGV[1] then return 'foreign' end
if redis.call('SET', KEYS[2], ARGV[2], 'NX', 'EX', ARGV[3]) then return 'claimed' end
if ARGV[4] ~= '' and redis.call('GET', KEYS[2]) == ARGV[4] then return 'repeat' end
return 'taken'
`;

type ClaimCommand = (grantKey: string, claimKey: string, owner: string, value: string, ttl: number, token: string) => Promise<ClaimOutcome>;

/** Claims in Redis, shared by every router; kept as long as the upload object can exist. */
export class RedisUploadClaims implements UploadClaims {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly ttlSeconds: number,
  ) {
    this.redis.defineCommand('artorizerClaimUpload', { numberOfKeys: 2, lua: CLAIM_SCRIPT });
  }

  private key(kind: 'claim' | 'grant', uploadId: string): string {
    return `${this.prefix}upload-${kind}:${uploadId}`;
  }

  async grant(uploadId: string, owner: string): Promise<void> {
    await this.redis.set(this.key('grant', uploadId), owner, 'EX', this.ttlSeconds);
  }

  claim(uploadId: string, token: string, owner: string | undefined): Promise<ClaimOutcome> {
    const run = (this.redis as unknown as { artorizerClaimUpload: ClaimCommand }).artorizerClaimUpload;
    return run.call(this.redis, this.key('grant', uploadId), this.key('claim', uploadId), owner ?? '', token || '\0', this.ttlSeconds, token);
  }

  async release(uploadId: string): Promise<void> {
    await this.redis.del(this.key('claim', uploadId));
  }
}

/** Claims in this process (a router without Redis is one instance). */
export class MemoryUploadClaims implements UploadClaims {
  private readonly grants: ExpiringMap<string>;
  private readonly claims: ExpiringMap<string>;

  constructor(ttlMs: number) {
    this.grants = new ExpiringMap(ttlMs);
    this.claims = new ExpiringMap(ttlMs);
  }

  async grant(uploadId: string, owner: string): Promise<void> {
    this.grants.set(uploadId, owner);
  }

  async claim(uploadId: string, token: string, owner: string | undefined): Promise<ClaimOutcome> {
    if (owner !== undefined && this.grants.get(uploadId) !== owner) return 'foreign';
    const held = this.claims.get(uploadId);
    if (held !== undefined) return token !== '' && held === token ? 'repeat' : 'taken';
    this.claims.set(uploadId, token);
    return 'claimed';
  }

  async release(uploadId: string): Promise<void> {
    this.claims.delete(uploadId);
  }
}

import { RedisConnection } from '../redis';
import { ExpiringMap } from './expiring-map';

/**
 * 'repeat': claimed earlier under the same token (a retry of one submit), which `release` must
 * not undo. 'unknown': no upload with this id was created (only claims in Redis know every
 * upload: without Redis, the submit's inspection of the object answers). 'unfinished' and
 * 'refused': a resumable (tus) upload whose bytes are not all in yet, or turned out not to be
 * an image (and were deleted).
 */
export type ClaimOutcome = 'claimed' | 'repeat' | 'taken' | 'foreign' | 'unknown' | 'unfinished' | 'refused';

/** Where a resumable (tus) upload stands: receiving bytes, finished as an image, or refused. */
export type TusState = 'open' | 'done' | 'refused';

/** What the tus routes need to know of an upload: whose it is and whether a job has it. */
export interface UploadStanding {
  owner?: string;
  submitted: boolean;
}

/**
 * Direct-upload grants: which API key was given an upload (`grant`, at POST /uploads), and the
 * one submit that consumes it (`claim`). A second submit gets 409 (unless it repeats the first
 * one's idempotency key: a retry of the same submit); another key's upload is 'foreign'.
 * Without it one upload made several jobs, and cancelling one deleted the object the others read.
 */
export interface UploadClaims {
  /** Records that this upload was created, by `owner`'s key ('' on an open router). */
  grant(uploadId: string, owner: string): Promise<void>;
  /**
   * 'claimed' when this submit took `uploadId`; 'repeat' when an earlier submit did under the
   * same non-empty `token`; 'taken' when another submit has it; 'foreign' when `owner` is set and
   * was not the key granted the upload.
   */
  claim(uploadId: string, token: string, owner: string | undefined): Promise<ClaimOutcome>;
  /** Gives a claim back after a submit that failed without making a job. */
  release(uploadId: string): Promise<void>;
  /** Records a resumable upload's state; a claim of an 'open' or 'refused' one fails. */
  setTusState(uploadId: string, state: TusState): Promise<void>;
  standing(uploadId: string): Promise<UploadStanding>;
}

/**
 * The grant check and the claim in one step: one round trip on the submit's path (it was up
 * to three), and no window between checking the owner and taking the claim.
 */
const CLAIM_SCRIPT = `
local grant = redis.call('GET', KEYS[1])
if ARGV[1] ~= '' and grant ~= ARGV[1] then return 'foreign' end
if not grant then return 'unknown' end
local tus = redis.call('GET', KEYS[3])
if tus == 'open' then return 'unfinished' end
if tus == 'refused' then return 'refused' end
if redis.call('SET', KEYS[2], ARGV[2], 'NX', 'EX', ARGV[3]) then return 'claimed' end
if ARGV[4] ~= '' and redis.call('GET', KEYS[2]) == ARGV[4] then return 'repeat' end
return 'taken'
`;

type ClaimCommand = (grantKey: string, claimKey: string, tusKey: string, owner: string, value: string, ttl: number, token: string) => Promise<ClaimOutcome>;

/** A claim's key in Redis (prefix ends in ':'); one hash tag per upload, so a script's keys share a Redis Cluster slot. */
export const uploadClaimKey = (prefix: string, kind: 'claim' | 'grant' | 'tus', uploadId: string) => `${prefix}upload-${kind}:{${uploadId}}`;

/** Claims in Redis, shared by every router; kept as long as the upload object can exist. */
export class RedisUploadClaims implements UploadClaims {
  constructor(
    private readonly redis: RedisConnection,
    private readonly prefix: string,
    private readonly ttlSeconds: number,
  ) {
    this.redis.defineCommand('artorizerClaimUpload', { numberOfKeys: 3, lua: CLAIM_SCRIPT });
  }

  private key(kind: 'claim' | 'grant' | 'tus', uploadId: string): string {
    return uploadClaimKey(this.prefix, kind, uploadId);
  }

  async grant(uploadId: string, owner: string): Promise<void> {
    await this.redis.set(this.key('grant', uploadId), owner, 'EX', this.ttlSeconds);
  }

  claim(uploadId: string, token: string, owner: string | undefined): Promise<ClaimOutcome> {
    const run = (this.redis as unknown as { artorizerClaimUpload: ClaimCommand }).artorizerClaimUpload;
    return run.call(this.redis, this.key('grant', uploadId), this.key('claim', uploadId), this.key('tus', uploadId), owner ?? '', token || '\0', this.ttlSeconds, token);
  }

  async release(uploadId: string): Promise<void> {
    await this.redis.del(this.key('claim', uploadId));
  }

  /** Also renews the grant: an upload finished late in its life still has its owner when it is submitted. */
  async setTusState(uploadId: string, state: TusState): Promise<void> {
    await this.redis.multi().set(this.key('tus', uploadId), state, 'EX', this.ttlSeconds).expire(this.key('grant', uploadId), this.ttlSeconds).exec();
  }

  async standing(uploadId: string): Promise<UploadStanding> {
    const [owner, claim] = await this.redis.mget(this.key('grant', uploadId), this.key('claim', uploadId));
    return { owner: owner || undefined, submitted: claim !== null };
  }
}

/** Claims in this process (a router without Redis is one instance). */
export class MemoryUploadClaims implements UploadClaims {
  private readonly grants: ExpiringMap<string>;
  private readonly claims: ExpiringMap<string>;
  private readonly tusStates: ExpiringMap<TusState>;

  constructor(ttlMs: number) {
    this.grants = new ExpiringMap(ttlMs);
    this.claims = new ExpiringMap(ttlMs);
    this.tusStates = new ExpiringMap(ttlMs);
  }

  async grant(uploadId: string, owner: string): Promise<void> {
    this.grants.set(uploadId, owner);
  }

  async claim(uploadId: string, token: string, owner: string | undefined): Promise<ClaimOutcome> {
    if (owner !== undefined && this.grants.get(uploadId) !== owner) return 'foreign';
    const tus = this.tusStates.get(uploadId);
    if (tus === 'open') return 'unfinished';
    if (tus === 'refused') return 'refused';
    const held = this.claims.get(uploadId);
    if (held !== undefined) return token !== '' && held === token ? 'repeat' : 'taken';
    this.claims.set(uploadId, token);
    return 'claimed';
  }

  async release(uploadId: string): Promise<void> {
    this.claims.delete(uploadId);
  }

  async setTusState(uploadId: string, state: TusState): Promise<void> {
    this.tusStates.set(uploadId, state);
    const owner = this.grants.get(uploadId);
    if (owner !== undefined) this.grants.set(uploadId, owner);
  }

  async standing(uploadId: string): Promise<UploadStanding> {
    return { owner: this.grants.get(uploadId) || undefined, submitted: this.claims.get(uploadId) !== undefined };
  }
}

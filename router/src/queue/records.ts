import { randomUUID } from 'node:crypto';
import { IRedisTransaction } from 'bullmq';
import { RedisConnection } from '../redis';
import { HttpJobStatus } from '@artorizer/contract';

/**
 * Where a queued job's image is: an object in the store, or a vetted URL. `directUploadId`
 * marks a direct upload nobody has looked at yet: the dispatcher checks it before submitting.
 */
export type QueuedSource = { kind: 's3'; bucket: string; key: string; directUploadId?: string } | { kind: 'url'; url: string };

/** A job the router accepted and queued; the dispatcher keeps it current. */
export interface QueuedJob {
  id: string;
  status: HttpJobStatus['status'] | 'dispatching';
  progress: HttpJobStatus['progress'];
  /** JobSpec as protobuf JSON (JobSpec.toJSON). */
  spec: unknown;
  source: QueuedSource;
  priority: number;
  /** The API key that created the job (absent on an open router). */
  owner?: string;
  attempts: number;
  sequence: number;
  processorAddress?: string;
  processorJobId?: string;
  lastError?: string;
  deadLetter?: boolean;
  error?: { reason: string; message: string };
  submittedAt: string;
  updatedAt: string;
  completedAt?: string;
}

export type QueuedJobPatch = Partial<Omit<QueuedJob, 'id' | 'sequence' | 'submittedAt'>>;

const TERMINAL = new Set(['completed', 'failed', 'cancelled']);
export const isTerminal = (job: QueuedJob) => TERMINAL.has(job.status);

const QUEUED_PROGRESS: HttpJobStatus['progress'] = { stage: 'queued', current_step: 'Waiting in queue', step_number: 0, total_steps: 0, percentage: 0 };

/**
 * Merges a patch into the stored record, bumps its sequence, keeps its TTL and publishes
 * it, in one step, so concurrent writers (dispatcher, cancel) never lose each other's fields.
 */
const UPDATE_SCRIPT = `
local raw = redis.call('GET', KEYS[1])
if not raw then return nil end
local job = cjson.decode(raw)
local patch = cjson.decode(ARGV[1])
if ARGV[3] == '1' and (job.status == 'completed' or job.status == 'failed' or job.status == 'cancelled') then return raw end
for k, v in pairs(patch) do job[k] = v end
job.sequence = job.sequence + 1
job.updatedAt = ARGV[2]
local out = cjson.encode(job)
redis.call('SET', KEYS[1], out, 'KEEPTTL')
redis.call('PUBLISH', KEYS[2], out)
return out
`;

/**
 * Claims an idempotency key (KEYS[1]) for ARGV[1] unless it is taken; answers its owner. Every
 * key a script touches is declared in KEYS (a Redis Cluster routes a script by them), so the
 * owner's record, whose key is known only from the owner, is read by a second command.
 */
const CLAIM_SCRIPT = `
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'EX', ARGV[2]) then return ARGV[1] end
return redis.call('GET', KEYS[1])
`;

/**
 * Largest job record: the edge's field limits keep a job's metadata well under it (its JSON
 * fields at most 64 KiB each); a record is kept for JOB_RETENTION_SECONDS, so this bounds what
 * one submit can hold in Redis.
 */
export const MAX_RECORD_BYTES = 256 * 1024;

export class RecordTooLarge extends Error {
  constructor(readonly bytes: number) {
    super(`the job's metadata is too large (${bytes} bytes as a record, limit ${MAX_RECORD_BYTES})`);
    this.name = 'RecordTooLarge';
  }
}

/** Job records in Redis, readable by every router instance, kept for `retentionSeconds`. */
export class JobRecords {
  /** `prefix`: where the records' keys start, `recordsPrefix(REDIS_PREFIX)` (the queue's hash tag, see queue/keys.ts). */
  constructor(
    private readonly redis: RedisConnection,
    private readonly prefix: string,
    private readonly retentionSeconds: number,
  ) {
    this.redis.defineCommand('artorizerUpdate', { numberOfKeys: 2, lua: UPDATE_SCRIPT });
    this.redis.defineCommand('artorizerClaim', { numberOfKeys: 1, lua: CLAIM_SCRIPT });
  }

  private key(id: string): string {
    return `${this.prefix}job:${id}`;
  }

  channel(id: string): string {
    return `${this.prefix}events:${id}`;
  }

  /** A new record, not yet saved. */
  draft(spec: unknown, source: QueuedSource, priority: number): QueuedJob {
    const now = new Date().toISOString();
    return { id: randomUUID(), status: 'queued', progress: QUEUED_PROGRESS, spec, source, priority, attempts: 0, sequence: 1, submittedAt: now, updatedAt: now };
  }

  /**
   * A new record as it is written: a Buffer, so it is not copied again into the command's
   * string (less young-generation garbage per submit). Throws RecordTooLarge above
   * MAX_RECORD_BYTES.
   */
  serialize(job: QueuedJob): Buffer {
    const record = Buffer.from(JSON.stringify(job));
    if (record.length > MAX_RECORD_BYTES) throw new RecordTooLarge(record.length);
    return record;
  }

  /**
   * Puts the write of a new record on `tx` (see JobIntake); its reply is null when a record
   * with that id is already there, which is then left as it is.
   */
  stage(tx: IRedisTransaction, id: string, record: Buffer): void {
    tx.runCommand('set', [this.key(id), record, 'EX', this.retentionSeconds, 'NX']);
  }

  /**
   * Who owns a client's idempotency key: `id` when this call claims it; else the id an earlier
   * submit claimed, with that job's record if it was written. A claim lasts `retentionSeconds`
   * and is made before its record is written, so it expires before that record; a claim whose
   * submit never wrote the job (it failed, or its router died) is filled by the next submit.
   */
  async claimIdempotencyKey(key: string, id: string): Promise<{ owner: string; record?: QueuedJob }> {
    const run = (this.redis as unknown as { artorizerClaim(claim: string, id: string, ttl: number): Promise<string | null> }).artorizerClaim;
    const owner = await run.call(this.redis, `${this.prefix}idempotency:${key}`, id, this.retentionSeconds);
    // a script runs whole: a key its SET NX found taken is there for its GET
    if (owner === null) throw new Error(`the idempotency key ${key} has no owner`);
    if (owner === id) return { owner };
    const record = await this.get(owner);
    return record ? { owner, record } : { owner };
  }

  async remove(id: string): Promise<void> {
    await this.redis.del(this.key(id));
  }

  async get(id: string): Promise<QueuedJob | undefined> {
    const raw = await this.redis.get(this.key(id));
    return raw ? (JSON.parse(raw) as QueuedJob) : undefined;
  }

  /** Applies a patch; with `unlessTerminal`, a job that has ended is left as it is. */
  async update(id: string, patch: QueuedJobPatch, unlessTerminal = true): Promise<QueuedJob | undefined> {
    const run = (this.redis as unknown as { artorizerUpdate(k1: string, k2: string, patch: string, now: string, guard: string): Promise<string | null> }).artorizerUpdate;
    const out = await run.call(this.redis, this.key(id), this.channel(id), JSON.stringify(patch), new Date().toISOString(), unlessTerminal ? '1' : '0');
    return out ? (JSON.parse(out) as QueuedJob) : undefined;
  }
}

/** The record in the original API's status shape. */
export function queuedJobToHttp(job: QueuedJob): HttpJobStatus & { attempts: number; dead_letter?: boolean; last_error?: string } {
  return {
    job_id: job.id,
    status: job.status === 'dispatching' ? 'queued' : job.status,
    progress: job.progress,
    submitted_at: job.submittedAt,
    updated_at: job.updatedAt,
    completed_at: job.completedAt,
    error: job.error,
    attempts: job.attempts,
    dead_letter: job.deadLetter,
    last_error: job.lastError,
  };
}

/**
 * Which processor (its `ip:port`) holds a processor job. A processor keeps its jobs in its
 * own memory, so every later call about a job must reach that one processor.
 */
export interface JobOwners {
  get(jobId: string): Promise<string | undefined>;
  set(jobId: string, address: string): Promise<void>;
  /** True when an id missing here is unknown everywhere (shared owners); false when the processors must be asked. */
  readonly shared: boolean;
}

const MEMORY_LIMIT = 100_000;

/** The owners this process has seen (bounded, oldest dropped): one router alone, or a cache in front of Redis. */
export class MemoryJobOwners implements JobOwners {
  readonly shared = false;
  private readonly owners = new Map<string, string>();

  async get(jobId: string): Promise<string | undefined> {
    return this.owners.get(jobId);
  }

  async set(jobId: string, address: string): Promise<void> {
    if (this.owners.size >= MEMORY_LIMIT) this.owners.delete(this.owners.keys().next().value!);
    this.owners.set(jobId, address);
  }
}

/** The part of an ioredis connection (single server or cluster) that owner records need. */
export interface OwnerStore {
  get(key: string): Promise<string | null>;
  set(key: string, value: string, expiry: 'EX', seconds: number): Promise<unknown>;
}

/** Owners in Redis, read by every router and dispatcher, kept as long as job records are. */
export class RedisJobOwners implements JobOwners {
  readonly shared = true;
  private readonly cache = new MemoryJobOwners();

  constructor(
    private readonly redis: OwnerStore,
    /** Ends in ':'. */
    private readonly prefix: string,
    private readonly retentionSeconds: number,
  ) {}

  private key(jobId: string): string {
    return `${this.prefix}job-owner:${jobId}`;
  }

  async get(jobId: string): Promise<string | undefined> {
    const cached = await this.cache.get(jobId);
    if (cached) return cached;
    const address = (await this.redis.get(this.key(jobId))) ?? undefined;
    if (address) await this.cache.set(jobId, address);
    return address;
  }

  async set(jobId: string, address: string): Promise<void> {
    await this.redis.set(this.key(jobId), address, 'EX', this.retentionSeconds);
    await this.cache.set(jobId, address);
  }
}

import { Queue, Worker } from 'bullmq';
import { Cluster, Redis } from 'ioredis';
import { DISPATCH_QUEUE, DispatchQueue, queuePriority } from '../../src/queue/dispatch-queue';
import { EntryTransaction } from '../../src/queue/entry-transaction';
import { JobIntake } from '../../src/queue/intake';
import { queuePrefix, recordsPrefix } from '../../src/queue/keys';
import { JobRecords, MAX_RECORD_BYTES, RecordTooLarge } from '../../src/queue/records';
import { RedisConnection, RedisTarget, openRedis } from '../../src/redis';
import { intakeStack } from './intake-stack';
import { RedisTestTarget, describeEachRedisTarget, describeWithRedis, describeWithRedisCluster, startPrivateRedis, uniquePrefix } from './redis';

/* The intake on real Redis: a record and its BullMQ entry go in together, batched per turn. */
describeEachRedisTarget('job intake (record and queue entry in one transaction)', (target) => {
  let prefix: string;
  let stack: ReturnType<typeof intakeStack>;
  let redis: RedisConnection;
  let queueConnection: RedisConnection;
  let records: JobRecords;
  let dispatch: DispatchQueue;
  let intake: JobIntake;
  let queue: Queue;

  beforeEach(() => {
    prefix = uniquePrefix('intake');
    stack = intakeStack(target.target(), prefix);
    ({ redis, queueConnection, records, dispatch, intake } = stack);
    queue = new Queue(DISPATCH_QUEUE, { connection: queueConnection, prefix: queuePrefix(prefix) });
  });

  afterEach(async () => {
    await queue.close();
    await stack.close();
    await target.dropPrefix(prefix);
  });

  const draft = (priority = 0) => records.draft({ artistName: 'A' }, { kind: 'url', url: 'http://127.0.0.1/a.png' }, priority);

  it('writes every record and its queue entry, with its priority, in one transaction for the submits of one turn', async () => {
    const jobs = Array.from({ length: 50 }, (_, i) => draft(i % 3));
    await Promise.all(jobs.map((job) => intake.add(job)));
    expect(stack.calls.transactions).toBe(1);
    for (const job of jobs) {
      expect(await records.get(job.id)).toEqual(job);
      const entry = await queue.getJob(job.id);
      expect(entry?.data).toEqual({ id: job.id });
      expect(entry?.priority).toBe(queuePriority(job.priority));
      expect(await redis.ttl(`${recordsPrefix(prefix)}job:${job.id}`)).toBeGreaterThan(0);
    }
    expect(await queue.getJobCounts('prioritized')).toEqual({ prioritized: 50 });
  });

  it('fails only the submit whose record cannot be written; the thirty sharing its turn are queued', async () => {
    const good = Array.from({ length: 30 }, () => draft());
    let deep: unknown = 'leaf';
    for (let i = 0; i < 150_000; i++) deep = [deep];
    const poisoned = records.draft({ extraMetadata: { deep } }, { kind: 'url', url: 'http://127.0.0.1/a.png' }, 0);
    const huge = records.draft({ extraMetadata: { text: 'x'.repeat(MAX_RECORD_BYTES) } }, { kind: 'url', url: 'http://127.0.0.1/a.png' }, 0);
    const outcomes = await Promise.allSettled([intake.add(poisoned), ...good.map((job) => intake.add(job)), intake.add(huge)]);
    expect(outcomes[0].status).toBe('rejected');
    expect(outcomes.at(-1)).toEqual({ status: 'rejected', reason: expect.any(RecordTooLarge) });
    expect(outcomes.slice(1, -1)).toEqual(Array(30).fill({ status: 'fulfilled', value: true }));
    for (const job of good) expect(await records.get(job.id)).toEqual(job);
    expect(await records.get(poisoned.id)).toBeUndefined();
    expect(await records.get(huge.id)).toBeUndefined();
  });

  it("opens its transactions on the records' connection (on a cluster, one of their own), which carries BullMQ's add-job commands and none of its others", async () => {
    await intake.add(draft());
    const tx = await dispatch.transaction();
    expect(tx).toBeInstanceOf(EntryTransaction);
    expect((tx as EntryTransaction).connection).toBe(target.kind === 'server' ? redis : stack.entries);
    const bullmq = Object.keys(stack.entries.scriptsSet).filter((name) => name.includes(':'));
    expect(bullmq.some((name) => name.startsWith('addPrioritizedJob:'))).toBe(true);
    expect(bullmq.every((name) => /^add(Standard|Prioritized|Delayed)Job:/.test(name))).toBe(true);
    expect(Object.keys(queueConnection.scriptsSet).length).toBeGreaterThan(30);
  });

  it('refuses an entry connection with a keyPrefix, where BullMQ would never find the entries', () => {
    const prefixed = target.connect({ keyPrefix: 'x:', lazyConnect: true });
    try {
      expect(() => new DispatchQueue({ connection: queueConnection, entryConnection: prefixed, prefix: queuePrefix(prefix), attempts: 1, backoffMs: 1, retentionSeconds: 1 })).toThrow(/keyPrefix/);
    } finally {
      prefixed.disconnect();
    }
  });

  it('leaves a record that is already there as it is, with its one queue entry, and says so', async () => {
    const job = draft();
    expect(await intake.add(job)).toBe(true);
    const again = { ...job, priority: 7, status: 'processing' as const };
    expect(await Promise.all([intake.add(again), intake.add(again)])).toEqual([false, false]);
    expect(await records.get(job.id)).toEqual(job);
    expect(await queue.getJobCounts('prioritized')).toEqual({ prioritized: 1 });
    expect((await queue.getJob(job.id))?.priority).toBe(queuePriority(job.priority));
  });

  it('claims an idempotency key for the first id that asks, for as long as a record lives, and reads back the job once written', async () => {
    const job = draft();
    expect(await records.claimIdempotencyKey('k-1', job.id)).toEqual({ owner: job.id });
    expect(await records.claimIdempotencyKey('k-1', 'second')).toEqual({ owner: job.id });
    await intake.add(job);
    expect(await records.claimIdempotencyKey('k-1', 'second')).toEqual({ owner: job.id, record: job });
    expect(await records.claimIdempotencyKey('k-2', 'second')).toEqual({ owner: 'second' });
    const ttl = await redis.ttl(`${recordsPrefix(prefix)}idempotency:k-1`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60);
  });

  it('refills a claimed id whose earlier entry has ended: the job is queued again, not left waiting forever', async () => {
    const job = draft();
    await intake.add(job);
    // The earlier submit's entry was taken and ended, and its record undone (a failed write).
    const workerConnection = target.connect({ maxRetriesPerRequest: null });
    const worker = new Worker(DISPATCH_QUEUE, async () => 'dropped', { connection: workerConnection, prefix: queuePrefix(prefix) });
    try {
      await new Promise<void>((resolve) => worker.on('completed', (j) => j.id === job.id && resolve()));
    } finally {
      await worker.close();
      workerConnection.disconnect();
    }
    await records.remove(job.id);
    expect(await queue.getJobState(job.id)).toBe('completed');
    expect(await intake.refill(job)).toBe(true);
    expect(await records.get(job.id)).toEqual(job);
    expect(await queue.getJobState(job.id)).toBe('prioritized');
  });

  it('uses a new transaction for each later turn', async () => {
    await intake.add(draft());
    await intake.add(draft());
    expect(stack.calls.transactions).toBe(2);
  });

  it('rejects every submit of a transaction that cannot be written, and leaves neither records nor entries', async () => {
    const jobs = [draft(), draft()];
    // a cluster client that has not learned the slot table yet holds a MULTI until it does (ioredis), disconnected or not
    if (target.kind === 'cluster') await stack.entries.ping();
    stack.entries.disconnect();
    const outcomes = await Promise.allSettled(jobs.map((job) => intake.add(job)));
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected']);
    // The queue's own metadata is written when BullMQ connects, before any submit.
    expect((await target.keys(`${queuePrefix(prefix)}*`)).filter((key) => key !== `${queuePrefix(prefix)}:${DISPATCH_QUEUE}:meta`)).toEqual([]);
  });
});

/** A Redis whose server-wide state (script cache, memory limit) a test may change; `all` runs a command on every master. */
interface PrivateRedis {
  target: RedisTarget;
  prefix: string;
  all(...args: string[]): Promise<void>;
  close(): Promise<void>;
}

function scriptLossSuite(name: string, describeIt: (name: string, body: () => void) => void, open: () => Promise<PrivateRedis>): void {
  describeIt(name, () => {
    let redis: PrivateRedis;
    let stack: ReturnType<typeof intakeStack>;
    let admin: RedisConnection;
    let records: JobRecords;
    let queue: Queue;
    let intake: JobIntake;

    beforeEach(async () => {
      redis = await open();
      stack = intakeStack(redis.target, redis.prefix);
      ({ records, intake } = stack);
      admin = openRedis(redis.target);
      queue = new Queue(DISPATCH_QUEUE, { connection: admin, prefix: queuePrefix(redis.prefix) });
    });

    afterEach(async () => {
      await queue.close();
      await stack.close();
      admin.disconnect();
      await redis.close();
    });

    const draft = () => records.draft({ artistName: 'A' }, { kind: 'url', url: 'http://127.0.0.1/a.png' }, 0);
    const queued = async (id: string) => ({ record: (await records.get(id)) !== undefined, entry: (await queue.getJob(id)) !== undefined });

    it('still queues every job whole after SCRIPT FLUSH, and later transactions carry their entries again', async () => {
      await intake.add(draft());
      await redis.all('SCRIPT', 'FLUSH');
      const jobs = [draft(), draft()];
      await Promise.all(jobs.map((job) => intake.add(job)));
      expect(stack.calls.entriesAlone).toBe(2);
      const later = draft();
      await intake.add(later);
      expect(stack.calls.entriesAlone).toBe(2);
      for (const job of [...jobs, later]) expect(await queued(job.id)).toEqual({ record: true, entry: true });
    });

    it('refuses the submits of a transaction Redis aborts, leaves nothing, and queues whole once Redis accepts writes again', async () => {
      await redis.all('CONFIG', 'SET', 'maxmemory', '1');
      const refused = [draft(), draft()];
      const outcomes = await Promise.allSettled(refused.map((job) => intake.add(job)));
      expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected']);
      await redis.all('CONFIG', 'SET', 'maxmemory', '0');
      for (const job of refused) expect(await queued(job.id)).toEqual({ record: false, entry: false });
      const jobs = [draft(), draft()];
      await Promise.all(jobs.map((job) => intake.add(job)));
      for (const job of jobs) expect(await queued(job.id)).toEqual({ record: true, entry: true });
    });
  });
}

/* Server-wide Redis state changes here: on a redis-server of the test's own, */
scriptLossSuite('job intake after Redis lost its scripts, on one Redis server', describeWithRedis, async () => {
  const server = await startPrivateRedis();
  const client = new Redis(server.url);
  return {
    target: { kind: 'server', url: server.url },
    prefix: 'p',
    all: async (...args) => void (await client.call(args[0], ...args.slice(1))),
    close: async () => {
      client.disconnect();
      await server.stop();
    },
  };
});

/* and on the cluster the suite started for itself (a cluster's script cache and memory limit are each master's). */
let clusterTarget: RedisTestTarget;
scriptLossSuite(
  'job intake after Redis lost its scripts, on a Redis Cluster',
  (name, body) =>
    describeWithRedisCluster(name, (target) => {
      clusterTarget = target;
      body();
    }),
  async () => {
    const client = clusterTarget.connect() as Cluster;
    await new Promise<void>((resolve, reject) => client.once('ready', resolve).once('error', reject));
    const prefix = uniquePrefix('script-loss');
    return {
      target: clusterTarget.target(),
      prefix,
      all: async (...args) => void (await Promise.all(client.nodes('master').map((node) => node.call(args[0], ...args.slice(1))))),
      close: async () => {
        await Promise.all(client.nodes('master').map((node) => node.config('SET', 'maxmemory', '0')));
        client.disconnect();
        await clusterTarget.dropPrefix(prefix);
      },
    };
  },
);

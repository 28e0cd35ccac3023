import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { DISPATCH_QUEUE, DispatchQueue, queuePriority } from '../../src/queue/dispatch-queue';
import { EntryTransaction } from '../../src/queue/entry-transaction';
import { JobIntake } from '../../src/queue/intake';
import { JobRecords } from '../../src/queue/records';
import { REDIS_URL, describeWithRedis, dropPrefix, startPrivateRedis, uniquePrefix } from './redis';

/** The intake as the router builds it: records and entries on one connection, BullMQ on another; counts the calls the tests look at. */
function intakeStack(url: string, prefix: string) {
  const redis = new Redis(url, { maxRetriesPerRequest: 1, enableAutoPipelining: true });
  const queueConnection = new Redis(url, { maxRetriesPerRequest: 1 });
  const records = new JobRecords(redis, `${prefix}:`, 60);
  const dispatch = new DispatchQueue({ connection: queueConnection, entryConnection: redis, prefix, attempts: 3, backoffMs: 50, retentionSeconds: 60 });
  const calls = { transactions: 0, entriesAlone: 0 };
  const transaction = dispatch.transaction.bind(dispatch);
  dispatch.transaction = () => {
    calls.transactions++;
    return transaction();
  };
  const enqueue = dispatch.enqueue.bind(dispatch);
  dispatch.enqueue = (id, priority) => {
    calls.entriesAlone++;
    return enqueue(id, priority);
  };
  const close = async () => {
    await dispatch.close();
    queueConnection.disconnect();
    redis.disconnect();
  };
  return { redis, queueConnection, records, dispatch, intake: new JobIntake(records, dispatch), calls, close };
}

/* The intake on real Redis: a record and its BullMQ entry go in together, batched per turn. */
describeWithRedis('job intake (record and queue entry in one transaction)', () => {
  let prefix: string;
  let stack: ReturnType<typeof intakeStack>;
  let redis: Redis;
  let queueConnection: Redis;
  let records: JobRecords;
  let dispatch: DispatchQueue;
  let intake: JobIntake;
  let queue: Queue;

  beforeEach(() => {
    prefix = uniquePrefix('intake');
    stack = intakeStack(REDIS_URL, prefix);
    ({ redis, queueConnection, records, dispatch, intake } = stack);
    queue = new Queue(DISPATCH_QUEUE, { connection: queueConnection, prefix });
  });

  afterEach(async () => {
    await queue.close();
    await stack.close();
    await dropPrefix(prefix);
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
      expect(await redis.ttl(`${prefix}:job:${job.id}`)).toBeGreaterThan(0);
    }
    expect(await queue.getJobCounts('prioritized')).toEqual({ prioritized: 50 });
  });

  it("opens its transactions on the records' connection, which carries BullMQ's add-job commands and none of its others", async () => {
    await intake.add(draft());
    const tx = await dispatch.transaction();
    expect(tx).toBeInstanceOf(EntryTransaction);
    expect((tx as EntryTransaction).connection).toBe(redis);
    const bullmq = Object.keys(redis.scriptsSet).filter((name) => name.includes(':'));
    expect(bullmq.some((name) => name.startsWith('addPrioritizedJob:'))).toBe(true);
    expect(bullmq.every((name) => /^add(Standard|Prioritized|Delayed)Job:/.test(name))).toBe(true);
    expect(Object.keys(queueConnection.scriptsSet).length).toBeGreaterThan(30);
  });

  it('refuses an entry connection with a keyPrefix, where BullMQ would never find the entries', () => {
    const prefixed = new Redis(REDIS_URL, { keyPrefix: 'x:', lazyConnect: true });
    try {
      expect(() => new DispatchQueue({ connection: queueConnection, entryConnection: prefixed, prefix, attempts: 1, backoffMs: 1, retentionSeconds: 1 })).toThrow(/keyPrefix/);
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

  it('claims an idempotency key for the first id that asks, for as long as a record lives', async () => {
    expect(await records.claimIdempotencyKey('k-1', 'first')).toBe('first');
    expect(await records.claimIdempotencyKey('k-1', 'second')).toBe('first');
    expect(await records.claimIdempotencyKey('k-2', 'second')).toBe('second');
    const ttl = await redis.ttl(`${prefix}:idempotency:k-1`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60);
  });

  it('uses a new transaction for each later turn', async () => {
    await intake.add(draft());
    await intake.add(draft());
    expect(stack.calls.transactions).toBe(2);
  });

  it('rejects every submit of a transaction that cannot be written, and leaves neither records nor entries', async () => {
    const jobs = [draft(), draft()];
    redis.disconnect();
    const outcomes = await Promise.allSettled(jobs.map((job) => intake.add(job)));
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected']);
    const check = new Redis(REDIS_URL);
    try {
      // The queue's own metadata is written when BullMQ connects, before any submit.
      expect((await check.keys(`${prefix}*`)).filter((key) => key !== `${prefix}:${DISPATCH_QUEUE}:meta`)).toEqual([]);
    } finally {
      check.disconnect();
    }
  });
});

/* Server-wide Redis state (script cache, memory limit) changes here, on a redis-server of the test's own. */
describeWithRedis('job intake after Redis lost its scripts', () => {
  let server: Awaited<ReturnType<typeof startPrivateRedis>>;
  let stack: ReturnType<typeof intakeStack>;
  let admin: Redis;
  let records: JobRecords;
  let queue: Queue;
  let intake: JobIntake;

  beforeEach(async () => {
    server = await startPrivateRedis();
    stack = intakeStack(server.url, 'p');
    ({ records, intake } = stack);
    admin = new Redis(server.url);
    queue = new Queue(DISPATCH_QUEUE, { connection: admin, prefix: 'p' });
  });

  afterEach(async () => {
    await queue.close();
    await stack.close();
    admin.disconnect();
    await server.stop();
  });

  const draft = () => records.draft({ artistName: 'A' }, { kind: 'url', url: 'http://127.0.0.1/a.png' }, 0);
  const queued = async (id: string) => ({ record: (await records.get(id)) !== undefined, entry: (await queue.getJob(id)) !== undefined });

  it('still queues every job whole after SCRIPT FLUSH, and later transactions carry their entries again', async () => {
    await intake.add(draft());
    await admin.script('FLUSH');
    const jobs = [draft(), draft()];
    await Promise.all(jobs.map((job) => intake.add(job)));
    expect(stack.calls.entriesAlone).toBe(2);
    const later = draft();
    await intake.add(later);
    expect(stack.calls.entriesAlone).toBe(2);
    for (const job of [...jobs, later]) expect(await queued(job.id)).toEqual({ record: true, entry: true });
  });

  it('refuses the submits of a transaction Redis aborts, leaves nothing, and queues whole once Redis accepts writes again', async () => {
    await admin.config('SET', 'maxmemory', '1');
    const refused = [draft(), draft()];
    const outcomes = await Promise.allSettled(refused.map((job) => intake.add(job)));
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected']);
    await admin.config('SET', 'maxmemory', '0');
    for (const job of refused) expect(await queued(job.id)).toEqual({ record: false, entry: false });
    const jobs = [draft(), draft()];
    await Promise.all(jobs.map((job) => intake.add(job)));
    for (const job of jobs) expect(await queued(job.id)).toEqual({ record: true, entry: true });
  });
});

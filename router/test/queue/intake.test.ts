import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { DISPATCH_QUEUE, DispatchQueue, queuePriority } from '../../src/queue/dispatch-queue';
import { JobIntake } from '../../src/queue/intake';
import { JobRecords } from '../../src/queue/records';
import { REDIS_URL, describeWithRedis, dropPrefix, uniquePrefix } from './redis';

/* The intake on real Redis: a record and its BullMQ entry go in together, batched per turn. */
describeWithRedis('job intake (record and queue entry in one transaction)', () => {
  let prefix: string;
  let redis: Redis;
  let records: JobRecords;
  let dispatch: DispatchQueue;
  let intake: JobIntake;
  let transactions: number;
  let afterCleanup: (() => Promise<void>)[];

  beforeEach(() => {
    prefix = uniquePrefix('intake');
    redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1, enableAutoPipelining: true });
    records = new JobRecords(redis, `${prefix}:`, 60);
    dispatch = new DispatchQueue({ connection: redis, prefix, attempts: 3, backoffMs: 50, retentionSeconds: 60 });
    transactions = 0;
    afterCleanup = [];
    const open = dispatch.transaction.bind(dispatch);
    dispatch.transaction = () => {
      transactions++;
      return open();
    };
    intake = new JobIntake(records, dispatch);
  });

  afterEach(async () => {
    for (const clean of afterCleanup) await clean();
    await dispatch.close();
    redis.disconnect();
    await dropPrefix(prefix);
  });

  const draft = (priority = 0) => records.draft({ artistName: 'A' }, { kind: 'url', url: 'http://127.0.0.1/a.png' }, priority);

  it('writes every record and its queue entry, with its priority, in one transaction for the submits of one turn', async () => {
    const jobs = Array.from({ length: 50 }, (_, i) => draft(i % 3));
    await Promise.all(jobs.map((job) => intake.add(job)));
    expect(transactions).toBe(1);
    const queue = new Queue(DISPATCH_QUEUE, { connection: redis, prefix });
    afterCleanup.push(() => queue.close());
    for (const job of jobs) {
      expect(await records.get(job.id)).toEqual(job);
      const entry = await queue.getJob(job.id);
      expect(entry?.data).toEqual({ id: job.id });
      expect(entry?.priority).toBe(queuePriority(job.priority));
      expect(await redis.ttl(`${prefix}:job:${job.id}`)).toBeGreaterThan(0);
    }
    expect(await queue.getJobCounts('prioritized')).toEqual({ prioritized: 50 });
  });

  it('uses a new transaction for each later turn', async () => {
    await intake.add(draft());
    await intake.add(draft());
    expect(transactions).toBe(2);
  });

  it('rejects every submit of a transaction that cannot be written, and leaves neither records nor entries', async () => {
    const jobs = [draft(), draft()];
    redis.disconnect();
    const outcomes = await Promise.allSettled(jobs.map((job) => intake.add(job)));
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected']);
    const check = new Redis(REDIS_URL);
    try {
      expect(await check.keys(`${prefix}*`)).toEqual([]);
    } finally {
      check.disconnect();
    }
  });
});

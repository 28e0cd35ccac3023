import { Job as BullJob, QueueEvents } from 'bullmq';
import { JobSpec } from '@artorizer/contract';
import { HttpFixture, makePng, specFor, startHttpFixture } from '@artorizer/testkit';
import { HealthBreaker } from '../../src/grpc/health-breaker';
import { ProcessorPool } from '../../src/grpc/processor-pool';
import { logger } from '../../src/logger';
import { createMetrics } from '../../src/metrics';
import { DISPATCH_QUEUE, DispatchData } from '../../src/queue/dispatch-queue';
import { Dispatcher } from '../../src/queue/dispatcher';
import { queuePrefix, recordsPrefix } from '../../src/queue/keys';
import { RecordEvents } from '../../src/queue/record-events';
import { JobRecords, QueuedJob, QueuedJobPatch } from '../../src/queue/records';
import { openRedis } from '../../src/redis';
import { LocalProcessor, startLocalProcessor } from '../harness';
import { intakeStack } from './intake-stack';
import { describeWithRedis, serverTarget, uniquePrefix } from './redis';

/*
 * The dispatcher's error handling, with real reference processors, a real Redis and BullMQ:
 * which failures end a job and which are tried again. intakeStack's queue makes 3 attempts
 * (DISPATCH_ATTEMPTS) with a 50 ms backoff.
 */
const ATTEMPTS = 3;
const FAST = { include_protection: false, processors: 'metadata' };
let fixture: HttpFixture;
let png: Buffer;

/** Records whose first 'dispatching' write fails as a write to Redis does while it fails over (which cannot be made on purpose here). */
class FlakyRecords extends JobRecords {
  failed = false;

  override update(id: string, patch: QueuedJobPatch, unlessTerminal?: boolean): Promise<QueuedJob | undefined> {
    if (patch.status === 'dispatching' && !this.failed) {
      this.failed = true;
      return Promise.reject(new Error('Connection is closed.'));
    }
    return super.update(id, patch, unlessTerminal);
  }
}

interface Dispatching {
  records: JobRecords;
  breaker: HealthBreaker;
  /** Queues a job for `url` with `spec`; its BullMQ entry. */
  queue(spec: JobSpec, url: string): Promise<{ id: string; entry: BullJob<DispatchData> }>;
  /** Resolves with the job's record once `until` holds for it (followed through the records' own updates in Redis). */
  recordOnce(id: string, until: (job: QueuedJob) => boolean): Promise<QueuedJob>;
  /** The job's BullMQ entry as it is now. */
  entryOf(id: string): Promise<BullJob<DispatchData> | undefined>;
  queueEvents: QueueEvents;
  close(): Promise<void>;
}

/** A dispatcher as a router or `make dispatcher` runs one, in front of `processors`, on a REDIS_PREFIX of its own. */
async function startDispatching(processors: LocalProcessor[], makeRecords?: (redis: ReturnType<typeof intakeStack>['redis'], prefix: string) => JobRecords): Promise<Dispatching> {
  const prefix = uniquePrefix('dispatch-errors');
  const target = serverTarget.target();
  const stack = intakeStack(target, prefix);
  const records = makeRecords?.(stack.redis, prefix) ?? stack.records;
  const pool = new ProcessorPool(
    processors.map((p) => p.address),
    5000,
    createMetrics(),
  );
  const breaker = new HealthBreaker(pool, 50, logger);
  await breaker.start();
  const options = { redis: target, prefix: queuePrefix(prefix), perProcessorLimit: 4, presignExpirySeconds: 60, s3Reference: 'presigned' as const, maxFileBytes: 1 << 20, lockMs: 30_000 };
  const dispatcher = new Dispatcher(options, records, pool, breaker, undefined, logger);
  const events = new RecordEvents(openRedis(target));
  const queueEventsConnection = openRedis(target, { maxRetriesPerRequest: null });
  const queueEvents = new QueueEvents(DISPATCH_QUEUE, { connection: queueEventsConnection, prefix: queuePrefix(prefix) });
  await queueEvents.waitUntilReady();
  dispatcher.start();
  return {
    records,
    breaker,
    queueEvents,
    entryOf: (id) => stack.dispatch.queue.getJob(id),
    queue: async (spec, url) => {
      const record = records.draft(JobSpec.toJSON(spec), { kind: 'url', url }, 0);
      await stack.intake.add(record);
      const entry = await stack.dispatch.queue.getJob(record.id);
      if (!entry) throw new Error(`job ${record.id} has no queue entry`);
      return { id: record.id, entry };
    },
    recordOnce: async (id, until) => {
      let unsubscribe: (() => Promise<void>) | undefined;
      try {
        return await new Promise<QueuedJob>((resolve, reject) => {
          const check = (job: QueuedJob | undefined) => job && until(job) && resolve(job);
          void events
            .subscribe(records.channel(id), check)
            .then((off) => {
              unsubscribe = off;
              // an update published before the subscription is in the record itself
              return records.get(id).then(check);
            })
            .catch(reject);
        });
      } finally {
        await unsubscribe?.();
      }
    },
    close: async () => {
      breaker.stop();
      await dispatcher.close();
      await queueEvents.close();
      queueEventsConnection.disconnect();
      events.close();
      pool.close();
      await stack.close();
      await serverTarget.dropPrefix(prefix);
    },
  };
}

/** The processor's jobs that the dispatcher submitted for router job `id` (its idempotency key). */
const runsOf = (processor: LocalProcessor, id: string) => [...processor.processor.jobs.all()].filter((job) => job.spec.idempotencyKey === id).length;

describeWithRedis('the dispatcher on failures', () => {
  let processor: LocalProcessor;

  beforeAll(async () => {
    png = await makePng(96, 64, 5);
    fixture = await startHttpFixture({ 'art.png': png });
    processor = await startLocalProcessor();
  });

  afterAll(async () => {
    await processor?.stop(100);
    await fixture?.close();
  });

  it('takes a definite refusal (INVALID_ARGUMENT) as final: one attempt, the job failed and dead-lettered with the reason', async () => {
    const dispatching = await startDispatching([processor]);
    try {
      const spec = specFor(FAST);
      spec.metadata!.artistName = '';
      const { id, entry } = await dispatching.queue(spec, fixture.url('art.png'));
      await expect(entry.waitUntilFinished(dispatching.queueEvents)).rejects.toThrow(/INVALID_ARGUMENT/);
      const record = await dispatching.recordOnce(id, (job) => job.status === 'failed');
      expect(record).toMatchObject({ status: 'failed', deadLetter: true, attempts: 1, error: { reason: 'rejected' }, lastError: expect.stringMatching(/^INVALID_ARGUMENT: .*artist_name/) });
      const ended = await dispatching.entryOf(id);
      expect(ended?.attemptsMade).toBe(1);
      expect(await ended?.getState()).toBe('failed');
      expect(runsOf(processor, id)).toBe(0);
    } finally {
      await dispatching.close();
    }
  });

  it('tries a retryable refusal (UNAVAILABLE: the processor is busy) again, DISPATCH_ATTEMPTS times in all, then dead-letters it', async () => {
    const busy = await startLocalProcessor({ PROCESSOR_CONCURRENCY: '1', MAX_QUEUED_JOBS: '1' });
    const dispatching = await startDispatching([busy]);
    const ctx = { requestId: 'fill' };
    const filler = new ProcessorPool([busy.address], 5000, createMetrics());
    try {
      // one job running (its image never comes) and one waiting: the processor's queue is full
      const stalled = fixture.nextStall();
      await filler.submitByReference(specFor(FAST), { location: { $case: 'http', http: { url: fixture.url('stall') } } }, ctx);
      await stalled;
      await filler.submitByReference(specFor(FAST), { location: { $case: 'http', http: { url: fixture.url('stall') } } }, ctx);

      const { id } = await dispatching.queue(specFor(FAST), fixture.url('art.png'));
      const record = await dispatching.recordOnce(id, (job) => job.status === 'failed');
      expect(record).toMatchObject({ deadLetter: true, attempts: ATTEMPTS, error: { reason: 'retries_exhausted' }, lastError: expect.stringMatching(/UNAVAILABLE: processor is busy/) });
      expect(runsOf(busy, id)).toBe(0);
    } finally {
      filler.close();
      await dispatching.close();
      for (const res of fixture.stalled.splice(0)) res.destroy();
      await busy.stop(0);
    }
  });

  it('tries a job again after an error that is not gRPC (Redis failing a write): it completes, run once', async () => {
    let flaky: FlakyRecords | undefined;
    const dispatching = await startDispatching([processor], (redis, prefix) => (flaky = new FlakyRecords(redis, recordsPrefix(prefix), 60)));
    try {
      const { id, entry } = await dispatching.queue(specFor(FAST), fixture.url('art.png'));
      await entry.waitUntilFinished(dispatching.queueEvents);
      expect(flaky?.failed).toBe(true);
      expect(await dispatching.records.get(id)).toMatchObject({ status: 'completed', attempts: 2, lastError: 'Connection is closed.', processorAddress: processor.address });
      expect(runsOf(processor, id)).toBe(1);
    } finally {
      await dispatching.close();
    }
  });

  it('dispatches a job again, on another processor, when its processor fails its health checks during the job', async () => {
    const first = await startLocalProcessor();
    const second = await startLocalProcessor();
    const dispatching = await startDispatching([first, second]);
    let stopping: Promise<void> | undefined;
    try {
      // the image never comes on the first processor; the second one gets it
      const onFirst = fixture.nextStall();
      const { id, entry } = await dispatching.queue(specFor(FAST), fixture.url('stall'));
      await onFirst;
      const [from, to] = (await dispatching.records.get(id))?.processorAddress === first.address ? [first, second] : [second, first];

      const onSecond = fixture.nextStall();
      // a stopping processor answers NOT_SERVING at once and lets its running job go on (grace period)
      stopping = from.stop(30_000);
      await onSecond;
      fixture.stalled.at(-1)!.writeHead(200, { 'Content-Type': 'image/png', 'Content-Length': png.length }).end(png);
      await entry.waitUntilFinished(dispatching.queueEvents);

      expect(await dispatching.records.get(id)).toMatchObject({ status: 'completed', attempts: 2, processorAddress: to.address, lastError: expect.stringMatching(/failed its health checks/) });
      expect(runsOf(to, id)).toBe(1);
    } finally {
      await dispatching.close();
      for (const res of fixture.stalled.splice(0)) res.destroy();
      await Promise.all([stopping, first.stop(0), second.stop(0)]);
    }
  });
});

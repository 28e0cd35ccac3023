import { ServiceError, status as GrpcStatus } from '@grpc/grpc-js';
import { JobState } from '@artorizer/contract';
import { makePng, specFor } from '@artorizer/testkit';
import { JobOwners } from '../src/grpc/job-owners';
import { ProcessorPool } from '../src/grpc/processor-pool';
import { Metrics, createMetrics } from '../src/metrics';
import { LocalProcessor, startLocalProcessor } from './harness';
import { freePort } from './ports';

/*
 * The processor pool's error handling, against real reference processors over loopback: what
 * a caller gets when a job's owner cannot be recorded or read, when no processor has a job,
 * and when one of the processors it would ask is down.
 */
const CTX = { requestId: 'pool-errors' };
let processor: LocalProcessor;
let png: Buffer;

/** Owners whose writes fail the first `failures` times, as a Redis Cluster's can during a failover. */
class FlakyOwners implements JobOwners {
  readonly shared = true;
  readonly written = new Map<string, string>();
  constructor(private failures: number) {}
  async get(jobId: string): Promise<string | undefined> {
    return this.written.get(jobId);
  }
  async set(jobId: string, address: string): Promise<void> {
    if (this.failures-- > 0) throw new Error('MOVED 9646 127.0.0.1:7001');
    this.written.set(jobId, address);
  }
}

/** Owners whose reads or writes fail, as Redis does when it is unreachable. */
class BrokenOwners implements JobOwners {
  readonly shared = true;
  constructor(private readonly failing: 'get' | 'set') {}
  async get(): Promise<string | undefined> {
    if (this.failing === 'get') throw new Error('Connection is closed.');
    return undefined;
  }
  async set(): Promise<void> {
    if (this.failing === 'set') throw new Error('Connection is closed.');
  }
}

async function grpcCalls(metrics: Metrics, method: string): Promise<number> {
  const { values } = await metrics.grpcCalls.get();
  return values.filter((v) => v.labels.method === method).reduce((sum, v) => sum + v.value, 0);
}

function submit(pool: ProcessorPool, fields: Record<string, unknown> = {}): Promise<{ jobId: string }> {
  const { call, done } = pool.openUpload(CTX);
  call.write({ payload: { $case: 'spec', spec: specFor(fields) } });
  call.write({ payload: { $case: 'chunk', chunk: png } });
  call.end();
  return done;
}

async function failure(promise: Promise<unknown>): Promise<ServiceError> {
  try {
    await promise;
  } catch (err) {
    return err as ServiceError;
  }
  throw new Error('expected a failure');
}

beforeAll(async () => {
  png = await makePng(48, 32, 9);
  processor = await startLocalProcessor();
});

afterAll(async () => {
  await processor?.stop(100);
});

describe('ProcessorPool errors', () => {
  it('cancels a job whose owner cannot be recorded and fails the submit with UNAVAILABLE (retryable)', async () => {
    const metrics = createMetrics();
    const pool = new ProcessorPool([processor.address], 10_000, metrics);
    pool.shareOwners(new BrokenOwners('set'));
    const before = new Set([...processor.processor.jobs.all()].map((j) => j.id));
    try {
      const err = await failure(submit(pool));
      expect(err.code).toBe(GrpcStatus.UNAVAILABLE);
      expect(err.details).toMatch(/could not be recorded: Connection is closed/);
      const orphans = [...processor.processor.jobs.all()].filter((j) => !before.has(j.id));
      expect(orphans).toHaveLength(1);
      expect(await grpcCalls(metrics, 'CancelJob')).toBe(1);
      // cancelled, unless the small job had already finished when the cancel came
      expect([JobState.JOB_STATE_CANCELLED, JobState.JOB_STATE_COMPLETED]).toContain(orphans[0].state);
    } finally {
      pool.close();
    }
  });

  it('leaves a keyed job running when its owner cannot be recorded, so that a retry with the same key gets it back and records it', async () => {
    const metrics = createMetrics();
    const pool = new ProcessorPool([processor.address], 10_000, metrics);
    const owners = new FlakyOwners(1);
    pool.shareOwners(owners);
    const key = `pool-retry-${process.hrtime.bigint()}`;
    try {
      const err = await failure(submit(pool, { idempotency_key: key }));
      expect(err.code).toBe(GrpcStatus.UNAVAILABLE);
      expect(err.details).toMatch(/could not be recorded: MOVED/);
      expect(await grpcCalls(metrics, 'CancelJob')).toBe(0);
      const { jobId } = await submit(pool, { idempotency_key: key });
      expect(owners.written.get(jobId)).toBe(processor.address);
      const job = [...processor.processor.jobs.all()].find((j) => j.id === jobId);
      expect(job?.spec.idempotencyKey).toBe(key);
      expect(job?.state).not.toBe(JobState.JOB_STATE_CANCELLED);
      expect([...processor.processor.jobs.all()].filter((j) => j.spec.idempotencyKey === key)).toHaveLength(1);
    } finally {
      pool.close();
    }
  });

  it('answers UNAVAILABLE when the owner records cannot be read, and NOT_FOUND for an id they lack, without a gRPC call', async () => {
    const metrics = createMetrics();
    const pool = new ProcessorPool([processor.address], 10_000, metrics);
    try {
      pool.shareOwners(new BrokenOwners('get'));
      expect((await failure(pool.getJob('some-job', CTX))).code).toBe(GrpcStatus.UNAVAILABLE);
      pool.shareOwners(new BrokenOwners('set'));
      const missing = await failure(pool.getResult('some-job', CTX));
      expect(missing.code).toBe(GrpcStatus.NOT_FOUND);
      expect(missing.details).toBe('job "some-job" not found');
      expect(await grpcCalls(metrics, 'GetJob')).toBe(0);
    } finally {
      pool.close();
    }
  });

  it('without shared owners asks every processor once, then remembers the owner', async () => {
    const submitter = new ProcessorPool([processor.address], 10_000, createMetrics());
    const other = await startLocalProcessor();
    const metrics = createMetrics();
    const pool = new ProcessorPool([other.address, processor.address], 10_000, metrics);
    try {
      const { jobId } = await submit(submitter);
      expect((await pool.getJob(jobId, CTX)).jobId).toBe(jobId);
      // one GetJob to each processor to find it, then one to its owner
      expect(await grpcCalls(metrics, 'GetJob')).toBe(3);
      await pool.getJob(jobId, CTX);
      expect(await grpcCalls(metrics, 'GetJob')).toBe(4);
      expect((await failure(pool.getJob('unknown-job', CTX))).code).toBe(GrpcStatus.NOT_FOUND);
    } finally {
      submitter.close();
      pool.close();
      await other.stop(100);
    }
  });

  it('tells a processor that is down (UNAVAILABLE) from a job that does not exist (NOT_FOUND)', async () => {
    const down = `127.0.0.1:${await freePort()}`;
    const pool = new ProcessorPool([processor.address, down], 10_000, createMetrics());
    try {
      const err = await failure(pool.getJob('unknown-job', CTX));
      expect(err.code).toBe(GrpcStatus.UNAVAILABLE);
    } finally {
      pool.close();
    }
  });
});

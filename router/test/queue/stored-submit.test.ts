import { PutObjectCommand } from '@aws-sdk/client-s3';
import { JobIntake } from '../../src/queue/intake';
import { QueuedJob } from '../../src/queue/records';
import { ObjectStore } from '../../src/storage/object-store';
import { QueuedObjects } from '../../src/submit/queued-objects';
import { submitStoredUpload } from '../../src/submit/stored-path';
import { TestStore, objectStoreOn, startEmbedded } from '../storage/stores';
import { intakeStack } from './intake-stack';
import { describeEachRedisTarget, uniquePrefix } from './redis';

/**
 * The intake as the router has it, except that its answer is lost after the write: what a
 * dropped connection after EXEC looks like to the router, which cannot be made on purpose
 * against a real Redis. With `lands`, the write itself happens first, for real.
 */
class LostAnswerIntake {
  constructor(
    private readonly real: JobIntake,
    private readonly lands: boolean,
  ) {}

  async add(job: QueuedJob): Promise<boolean> {
    if (this.lands) await this.real.add(job);
    throw new Error('Connection is closed.');
  }

  refill(job: QueuedJob): Promise<boolean> {
    return this.add(job);
  }
}

/* A queued s3-mode submit (the router stored the image) that ends in a 503. */
describeEachRedisTarget('s3-mode submit when Redis does not answer', (target) => {
  let store: TestStore;
  let objects: ObjectStore;
  let prefix: string;
  let stack: ReturnType<typeof intakeStack>;

  beforeAll(async () => {
    store = await startEmbedded('artorizer-lost-answer');
    objects = objectStoreOn(store);
  });

  afterAll(async () => {
    objects.client.destroy();
    await store.stop();
  });

  beforeEach(() => {
    prefix = uniquePrefix('lost-answer');
    stack = intakeStack(target.target(), prefix);
  });

  afterEach(async () => {
    await stack.close();
    await target.dropPrefix(prefix);
  });

  async function submit(lands: boolean, fields: Record<string, string>): Promise<{ key: string; status?: number }> {
    const key = objects.newUploadKey();
    await objects.client.send(new PutObjectCommand({ Bucket: store.bucket, Key: key, Body: Buffer.from('image bytes') }));
    const queued = new QueuedObjects(objects, { records: stack.records, intake: new LostAnswerIntake(stack.intake, lands) });
    const upload = { object: { key, sizeBytes: 11, sha256: '' }, contentType: 'image/png', filename: 'art.png' };
    const outcome = await submitStoredUpload(upload, { artist_name: 'A', artwork_title: 'T', ...fields }, queued, { requestId: 'test' }).then(
      () => undefined,
      (err: { status?: number }) => err.status,
    );
    return { key, status: outcome };
  }

  it('keeps the image of a job Redis did queue, and a retry with the same key gets that job', async () => {
    const lost = await submit(true, { idempotency_key: 'lost-1' });
    expect(lost.status).toBe(503);
    expect(await store.keys(lost.key)).toEqual([lost.key]);
    const claim = await stack.records.claimIdempotencyKey('lost-1', 'retry');
    expect(claim.record?.source).toMatchObject({ kind: 's3', key: lost.key });
    const unkeyed = await submit(true, {});
    expect(unkeyed.status).toBe(503);
    expect(await store.keys(unkeyed.key)).toEqual([unkeyed.key]);
  });

  it('deletes the image when the job is not in Redis', async () => {
    const refused = await submit(false, { idempotency_key: 'refused-1' });
    expect(refused.status).toBe(503);
    expect(await store.keys(refused.key)).toEqual([]);
    const unkeyed = await submit(false, {});
    expect(unkeyed.status).toBe(503);
    expect(await store.keys(unkeyed.key)).toEqual([]);
  });
});

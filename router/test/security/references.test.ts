import { PutObjectCommand } from '@aws-sdk/client-s3';
import { jobSpecFromFields } from '@artorizer/contract';
import { ContractClient, HttpFixture, makePng, startHttpFixture } from '@artorizer/testkit';
import { LocalProcessor, LocalRouter, startLocalProcessor, startLocalRouter, waitForJob } from '../harness';
import { REDIS_URL, describeWithRedis, dropPrefix, uniquePrefix } from '../queue/redis';
import { TestStore, startEmbedded } from '../storage/stores';

const meta = { artist_name: 'Jane', artwork_title: 'Mine' };

async function directUpload(router: LocalRouter, png: Buffer): Promise<string> {
  const res = await fetch(`${router.url}/uploads`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ content_type: 'image/png', size: png.length }) });
  const grant = (await res.json()) as { upload_id: string; url: string };
  await fetch(grant.url, { method: 'PUT', headers: { 'Content-Type': 'image/png' }, body: png });
  return grant.upload_id;
}

async function submit(router: LocalRouter, body: Record<string, unknown>): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${router.url}/protect`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ ...meta, ...body }) });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

describeWithRedis('references that reach what they should not', () => {
  let store: TestStore;
  let processor: LocalProcessor;
  let fixture: HttpFixture;
  let direct: LocalRouter;
  let queued: LocalRouter;
  let png: Buffer;
  const prefix = uniquePrefix('references');

  beforeAll(async () => {
    png = await makePng(320, 240, 9);
    store = await startEmbedded();
    fixture = await startHttpFixture({});
    processor = await startLocalProcessor(store.env);
    direct = await startLocalRouter({ ...store.env, PROCESSOR_ADDR: processor.address, TRANSFER_MODE: 'direct' });
    queued = await startLocalRouter({ ...store.env, PROCESSOR_ADDR: processor.address, TRANSFER_MODE: 'direct', REDIS_URL, REDIS_PREFIX: prefix });
  });

  afterAll(async () => {
    await Promise.all([direct.stop(100), queued.stop(100)]);
    await processor.stop(0);
    await fixture.close();
    await store.stop();
    await dropPrefix(prefix);
  });

  it.each([
    ['without', () => direct],
    ['with', () => queued],
  ])('consumes an upload grant once (%s a queue): a second submit gets 409', async (_name, router) => {
    const uploadId = await directUpload(router(), png);
    const first = await submit(router(), { upload_id: uploadId, idempotency_key: `once-${uploadId}` });
    expect(first.status).toBe(202);
    const again = await Promise.all([submit(router(), { upload_id: uploadId }), submit(router(), { upload_id: uploadId, idempotency_key: 'another' })]);
    expect(again).toEqual([
      { status: 409, json: { error: expect.stringMatching(/already been submitted/), field: 'upload_id' } },
      { status: 409, json: { error: expect.stringMatching(/already been submitted/), field: 'upload_id' } },
    ]);
    // a retry of the first submit itself (same idempotency key) is that job, not a conflict
    expect(await submit(router(), { upload_id: uploadId, idempotency_key: `once-${uploadId}` })).toMatchObject({ status: 202, json: { job_id: first.json.job_id } });
    expect(await waitForJob(router().url, first.json.job_id as string)).toMatchObject({ status: 'completed' });
  });

  it("does not delete an object named in a SubmitJob caller's label when that caller's job is cancelled", async () => {
    const victim = await directUpload(direct, png);
    expect((await submit(direct, { upload_id: victim })).status).toBe(202);
    const attacker = new ContractClient(processor.address);
    try {
      const spec = { ...jobSpecFromFields(meta), labels: { 'artorizer.upload_key': `uploads/${victim}` } };
      const stall = fixture.nextStall();
      const job = await attacker.submitByReference(spec, { location: { $case: 'http', http: { url: fixture.url('stall') } } });
      await stall;
      const cancel = await fetch(`${direct.url}/jobs/${job.jobId}`, { method: 'DELETE' });
      expect(await cancel.json()).toMatchObject({ status: 'cancelled' });
      expect(await store.keys(`uploads/${victim}`)).toEqual([`uploads/${victim}`]);
    } finally {
      attacker.close();
      for (const res of fixture.stalled.splice(0)) res.destroy();
    }
  });

  it("never presigns an object outside the job's own prefix: a by-reference original is streamed, with safe headers", async () => {
    const key = `uploads/planted-${Date.now()}`;
    await store.client.send(new PutObjectCommand({ Bucket: store.bucket, Key: key, Body: png, ContentType: 'image/svg+xml' }));
    const caller = new ContractClient(processor.address);
    try {
      const job = await caller.submitByReference(jobSpecFromFields(meta), { location: { $case: 's3', s3: { bucket: store.bucket, key, endpoint: '', region: '' } } });
      expect(await waitForJob(direct.url, job.jobId)).toMatchObject({ status: 'completed' });
      const original = await fetch(`${direct.url}/jobs/${job.jobId}/download/original`, { redirect: 'manual' });
      expect(original.status).toBe(200);
      expect(Buffer.from(await original.arrayBuffer()).equals(png)).toBe(true);
      expect(Object.fromEntries(['content-type', 'x-content-type-options', 'content-security-policy', 'content-disposition'].map((h) => [h, original.headers.get(h)]))).toEqual({
        'content-type': 'image/png',
        'x-content-type-options': 'nosniff',
        'content-security-policy': "default-src 'none'; sandbox",
        'content-disposition': `attachment; filename="${job.jobId}-original.png"; filename*=UTF-8''${job.jobId}-original.png`,
      });
      // the processor's own artifacts are still sent to the store, typed and named by the router
      const stored = await fetch(`${direct.url}/jobs/${job.jobId}/download/protected`, { redirect: 'manual' });
      expect(stored.status).toBe(302);
      const location = new URL(stored.headers.get('location')!);
      expect(location.pathname).toContain(`/jobs/${job.jobId}/`);
      expect(location.searchParams.get('response-content-disposition')).toMatch(/^attachment; filename=/);
      expect(location.searchParams.get('response-content-type')).toMatch(/^image\/(png|jpeg)$/);
    } finally {
      caller.close();
    }
  });
});

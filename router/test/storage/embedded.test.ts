import { makePng, specFor } from '@artorizer/testkit';
import { LocalProcessor, LocalRouter, form, startLocalProcessor, startLocalRouter, waitForJob } from '../harness';
import { startEmbedded } from './stores';
import { storageSuite } from './suite';

describe('storage suite on the embedded store (s3rver)', () => {
  storageSuite(() => startEmbedded(), { strict: false });
});

describe('the store going down', () => {
  it('fails a job whose image can no longer be fetched, and answers new s3 submits with 503', async () => {
    const store = await startEmbedded('artorizer-outage');
    const processor: LocalProcessor = await startLocalProcessor(store.env);
    const router: LocalRouter = await startLocalRouter({ ...store.env, PROCESSOR_ADDR: processor.address, TRANSFER_MODE: 's3', RETRY_AFTER_SECONDS: '3' });
    try {
      const png = await makePng(64, 64, 4);
      const grant = (await (
        await fetch(`${router.url}/uploads`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ content_type: 'image/png', size: png.length }) })
      ).json()) as { upload_id: string; url: string };
      await fetch(grant.url, { method: 'PUT', headers: { 'Content-Type': 'image/png' }, body: png });
      await store.halt();

      const direct = await fetch(`${router.url}/protect`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ artist_name: 'A', artwork_title: 'B', upload_id: grant.upload_id }),
      });
      expect(direct.status).toBe(503);
      const multipart = await fetch(`${router.url}/protect`, { method: 'POST', body: form({ artist_name: 'A', artwork_title: 'B' }, png) });
      expect(multipart.status).toBe(503);
      expect(multipart.headers.get('retry-after')).toBe('3');

      // A job already handed to the processor fails cleanly when its reference is gone.
      const job = processor.processor.submitReference(specFor(), { location: { $case: 's3', s3: { bucket: store.bucket, key: `uploads/${grant.upload_id}`, endpoint: '', region: '' } } });
      const end = await waitForJob(router.url, job.jobId);
      expect(end).toMatchObject({ status: 'failed', error: { reason: 'fetch_failed' } });
    } finally {
      await router.stop(100);
      await processor.stop(100);
      await store.stop();
    }
  }, 60_000);
});

describe('the embedded store at the edge', () => {
  it("listens on loopback and answers CORS only for the router's origins", async () => {
    const store = await startEmbedded('artorizer-cors');
    try {
      const endpoint = new URL(store.env.S3_ENDPOINT);
      expect(endpoint.hostname).toBe('127.0.0.1');
      const preflight = (origin: string) => fetch(`${store.env.S3_ENDPOINT}/${store.bucket}/uploads/x`, { method: 'OPTIONS', headers: { Origin: origin, 'Access-Control-Request-Method': 'PUT' } });
      // s3rver answers an allowed preflight with `*` and refuses the others outright
      expect((await preflight('http://127.0.0.1:7000')).status).toBe(200);
      const other = await preflight('http://evil.example');
      expect(other.status).toBe(403);
      expect(other.headers.get('access-control-allow-origin')).toBeNull();
    } finally {
      await store.stop();
    }
  });
});

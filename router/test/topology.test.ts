import net from 'node:net';
import { makePng, sha256 } from '@artorizer/testkit';
import { LocalProcessor, LocalRouter, form, jobCount, startLocalProcessor, startLocalRouter, waitForJob } from './harness';
import { freePort } from './ports';

/* Legacy mode, several processors, a processor that is down, and graceful shutdown. */
const meta = { artist_name: 'Jane Doe', artwork_title: 'Topology' };
let png: Buffer;

beforeAll(async () => {
  png = await makePng(320, 240, 7);
});

async function post(router: LocalRouter, body: FormData): Promise<{ status: number; json: Record<string, unknown>; retryAfter: string | null }> {
  const res = await fetch(`${router.url}/protect`, { method: 'POST', body });
  return { status: res.status, json: (await res.json()) as Record<string, unknown>, retryAfter: res.headers.get('retry-after') };
}

/** A port with nothing listening on it. */
async function deadAddress(): Promise<string> {
  return `127.0.0.1:${await freePort()}`;
}

describe('legacy mode (store-and-forward to /v1/jobs)', () => {
  let processor: LocalProcessor;
  let router: LocalRouter;

  beforeAll(async () => {
    processor = await startLocalProcessor();
    router = await startLocalRouter({ TRANSFER_MODE: 'legacy', PROCESSOR_HTTP_URL: processor.httpUrl, PROCESSOR_ADDR: processor.address });
  });
  afterAll(async () => {
    await router.stop(100);
    await processor.stop(100);
  });

  it('re-posts the upload and answers status, result, events and downloads over the HTTP API', async () => {
    const { status, json } = await post(router, form({ ...meta, watermark_text: 'legacy-path' }, png));
    expect(status).toBe(202);
    const jobId = json.job_id as string;
    expect((await waitForJob(router.url, jobId)).status).toBe('completed');
    const result = (await (await fetch(`${router.url}/jobs/${jobId}/result`)).json()) as { verified: { watermark_text: string }; download_urls: Record<string, string> };
    expect(result.verified.watermark_text).toBe('legacy-path');
    expect(result.download_urls.original).toBe(`/jobs/${jobId}/download/original`);
    const original = Buffer.from(await (await fetch(`${router.url}${result.download_urls.original}`)).arrayBuffer());
    expect(sha256(original)).toBe(sha256(png));
    expect((await fetch(`${router.url}/jobs/unknown`)).status).toBe(404);
    const metrics = await (await fetch(`${router.url}/metrics`)).text();
    expect(metrics).toMatch(/router_bytes_relayed_total\{mode="legacy"\} [1-9]/);
  });

  it('validates like stream mode', async () => {
    const res = await post(router, form({ artwork_title: 'x' }, png));
    expect(res.status).toBe(400);
    expect(res.json.field).toBe('artist_name');
  });
});

describe('several processors', () => {
  let processors: LocalProcessor[];
  let router: LocalRouter;

  beforeAll(async () => {
    processors = [await startLocalProcessor(), await startLocalProcessor()];
    router = await startLocalRouter({ PROCESSOR_ADDR: processors.map((p) => p.address).join(',') });
  });
  afterAll(async () => {
    await router.stop(100);
    await Promise.all(processors.map((p) => p.stop(100)));
  });

  it('balances new jobs round-robin and finds each job again, even from a router that never saw it', async () => {
    const before = processors.map(jobCount);
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push((await post(router, form(meta, png))).json.job_id as string);
    expect(processors.map((p, i) => jobCount(p) - before[i])).toEqual([2, 2]);

    const fresh = await startLocalRouter({ PROCESSOR_ADDR: processors.map((p) => p.address).join(',') });
    try {
      for (const id of ids) expect((await waitForJob(fresh.url, id)).status).toBe('completed');
    } finally {
      await fresh.stop(100);
    }
  });
});

describe('a processor that is down', () => {
  let router: LocalRouter;

  beforeAll(async () => {
    router = await startLocalRouter({ PROCESSOR_ADDR: await deadAddress(), GRPC_DEADLINE_MS: '1000', RETRY_AFTER_SECONDS: '7' });
  });
  afterAll(() => router.stop(100));

  it('answers uploads with 503 and Retry-After, and is not ready', async () => {
    const res = await post(router, form(meta, png));
    expect(res.status).toBe(503);
    expect(res.retryAfter).toBe('7');
    const ready = await fetch(`${router.url}/health/ready`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ status: 'not_ready', processors: { serving: 0 } });
    expect((await fetch(`${router.url}/health/live`)).status).toBe(200);
  });
});

describe('graceful shutdown', () => {
  it('lets an upload that is in flight finish, then stops', async () => {
    const processor = await startLocalProcessor();
    const router = await startLocalRouter({ PROCESSOR_ADDR: processor.address });
    try {
      const boundary = 'graceful';
      const head = `--${boundary}\r\nContent-Disposition: form-data; name="artist_name"\r\n\r\nJane\r\n--${boundary}\r\nContent-Disposition: form-data; name="artwork_title"\r\n\r\nLate\r\n--${boundary}\r\nContent-Disposition: form-data; name="image"; filename="a.png"\r\nContent-Type: image/png\r\n\r\n`;
      const tail = `\r\n--${boundary}--\r\n`;
      const socket = net.connect(router.port, '127.0.0.1');
      await new Promise((resolve) => socket.once('connect', resolve));
      let answer = '';
      socket.on('data', (d: Buffer) => (answer += d.toString()));
      const closed = new Promise((resolve) => socket.once('close', resolve));
      socket.write(
        `POST /protect HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: multipart/form-data; boundary=${boundary}\r\nContent-Length: ${Buffer.byteLength(head) + png.length + tail.length}\r\n\r\n${head}`,
      );
      socket.write(png.subarray(0, 1000));
      // Stop only once the router is relaying this upload.
      while ((await router.metrics.inflightUploads.get()).values[0]?.value !== 1) await new Promise((r) => setTimeout(r, 5));

      const stopped = router.stop(5000);
      socket.write(png.subarray(1000));
      socket.write(tail);
      await closed;
      await stopped;
      expect(answer).toMatch(/^HTTP\/1\.1 202/);
      expect(answer).toMatch(/"status":"queued"/);
    } finally {
      await router.stop(100);
      await processor.stop(100);
    }
  });
});

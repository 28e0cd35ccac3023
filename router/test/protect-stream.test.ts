import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { HttpFixture, makePng, sha256, specFor, startHttpFixture } from '@artorizer/testkit';
import { LocalProcessor, LocalRouter, form, incomingFiles, jobCount, startLocalProcessor, startLocalRouter, waitForJob } from './harness';

/* POST /protect in stream mode against a real processor over gRPC. */
let processor: LocalProcessor;
let router: LocalRouter;
let fixture: HttpFixture;
let png: Buffer;
const MAX = 2 * 1024 * 1024;
const meta = { artist_name: 'Jane Doe', artwork_title: 'Streamed' };

beforeAll(async () => {
  processor = await startLocalProcessor({ PROCESSOR_CONCURRENCY: '1' });
  router = await startLocalRouter({ PROCESSOR_ADDR: processor.address, MAX_FILE_SIZE: String(MAX), IMAGE_URL_ALLOWLIST: '127.0.0.1/32', UPLOAD_CHUNK_SIZE: '16384' });
  png = await makePng(400, 300);
  fixture = await startHttpFixture({ 'art.png': png });
});

afterAll(async () => {
  await router.stop(100);
  await fixture.close();
  await processor.stop(100);
});

async function protect(body: FormData | string, headers: Record<string, string> = {}): Promise<{ status: number; json: Record<string, unknown>; headers: Headers }> {
  const res = await fetch(`${router.url}/protect`, { method: 'POST', body, headers });
  return { status: res.status, json: (await res.json()) as Record<string, unknown>, headers: res.headers };
}

describe('multipart uploads', () => {
  it('streams a file sent after its metadata, and serves status, result and downloads', async () => {
    const { status, json } = await protect(form({ ...meta, tags: 'a,b', watermark_text: 'fields-first' }, png));
    expect(status).toBe(202);
    expect(json).toEqual({ job_id: expect.any(String), status: 'queued' });
    const jobId = json.job_id as string;
    expect((await waitForJob(router.url, jobId)).status).toBe('completed');

    const job = (await (await fetch(`${router.url}/jobs/${jobId}`)).json()) as Record<string, unknown>;
    expect(job).toMatchObject({ job_id: jobId, status: 'completed', progress: { percentage: 100, step_number: 4, total_steps: 4 } });

    const result = (await (await fetch(`${router.url}/jobs/${jobId}/result`)).json()) as {
      verified: { watermark_text: string };
      download_urls: Record<string, string>;
    };
    expect(result.verified.watermark_text).toBe('fields-first');
    expect(result.download_urls.original).toBe(`/jobs/${jobId}/download/original`);

    const original = await fetch(`${router.url}${result.download_urls.original}`);
    expect(original.headers.get('content-type')).toBe('image/png');
    expect(original.headers.get('content-length')).toBe(String(png.length));
    expect(sha256(Buffer.from(await original.arrayBuffer()))).toBe(sha256(png));
    const protectedImage = await fetch(`${router.url}${result.download_urls.protected}`);
    expect(protectedImage.status).toBe(200);
    expect(
      Buffer.from(await protectedImage.arrayBuffer())
        .subarray(1, 4)
        .toString(),
    ).toBe('PNG');
  });

  it('accepts metadata sent after the file without losing it', async () => {
    const { status, json } = await protect(form({ ...meta, watermark_text: 'fields-last' }, png, false));
    expect(status).toBe(202);
    const jobId = json.job_id as string;
    await waitForJob(router.url, jobId);
    const result = (await (await fetch(`${router.url}/jobs/${jobId}/result`)).json()) as { verified: { watermark_text: string }; analysis: { image: { sha256: string } } };
    expect(result.verified.watermark_text).toBe('fields-last');
    expect(result.analysis.image.sha256).toBe(sha256(png));
  });

  it('refuses a field that arrives after the file started streaming, and creates no job', async () => {
    const before = jobCount(processor);
    const body = form(meta, png);
    body.append('tags', 'late');
    const { status, json } = await protect(body);
    expect(status).toBe(400);
    expect(json).toMatchObject({ field: 'tags' });
    expect(jobCount(processor)).toBe(before);
  });

  it.each([
    ['a missing file and no image_url', () => form(meta), 'image'],
    ['a missing artist_name', () => form({ artwork_title: 'x' }, png), 'artist_name'],
    ['too many tags', () => form({ ...meta, tags: Array.from({ length: 26 }, (_, i) => `t${i}`).join(',') }, png), 'tags'],
    ['an unknown processor', () => form({ ...meta, processors: 'metadata,x-ray' }, png), 'processors'],
    ['an out-of-range watermark strength', () => form({ ...meta, watermark_strength: '2' }, png), 'watermark_strength'],
  ])('answers %s with a 400 naming the field', async (_name, body, field) => {
    const before = jobCount(processor);
    const res = await protect(body());
    expect(res.status).toBe(400);
    expect(res.json.field).toBe(field);
    expect(jobCount(processor)).toBe(before);
  });

  it('answers 415 for a file that is not an image by its bytes', async () => {
    const before = jobCount(processor);
    const res = await protect(form(meta, Buffer.from('%PDF-1.7\n'.repeat(100)), true, 'image/png'));
    expect(res.status).toBe(415);
    expect(jobCount(processor)).toBe(before);
  });

  it('answers 415 for a request that is neither multipart nor JSON', async () => {
    expect((await protect('hello', { 'Content-Type': 'text/plain' })).status).toBe(415);
  });

  it('answers OPTIONS with the methods of the path, and 404 for an unknown path', async () => {
    const protectOptions = await fetch(`${router.url}/protect`, { method: 'OPTIONS' });
    expect(protectOptions.status).toBe(200);
    expect(protectOptions.headers.get('allow')).toBe('POST');
    const jobOptions = await fetch(`${router.url}/jobs/some-id`, { method: 'OPTIONS' });
    expect(jobOptions.headers.get('allow')?.split(', ').sort()).toEqual(['DELETE', 'GET', 'HEAD']);
    expect((await fetch(`${router.url}/nowhere`, { method: 'OPTIONS' })).status).toBe(404);
  });

  it('answers 413 for a file over MAX_FILE_SIZE, cancels the processor upload and leaves nothing', async () => {
    const before = jobCount(processor);
    const big = Buffer.concat([png, Buffer.alloc(MAX)]);
    const res = await protect(form(meta, big));
    expect(res.status).toBe(413);
    await until(() => incomingFiles(processor).length === 0);
    expect(jobCount(processor)).toBe(before);
  });

  it('tells a client of a busy processor 503 with Retry-After, not 413 (a full queue is not an image too large)', async () => {
    const busy = await startLocalProcessor({ PROCESSOR_CONCURRENCY: '1', MAX_QUEUED_JOBS: '1' });
    const edge = await startLocalRouter({ PROCESSOR_ADDR: busy.address, TRANSFER_MODE: 'stream', MAX_FILE_SIZE: String(MAX), RETRY_AFTER_SECONDS: '7' });
    try {
      const stall = fixture.nextStall();
      await busy.processor.submitReference(specFor(), { location: { $case: 'http', http: { url: fixture.url('stall') } } });
      await stall;
      expect((await fetch(`${edge.url}/protect`, { method: 'POST', body: form(meta, png) })).status).toBe(202);
      const res = await fetch(`${edge.url}/protect`, { method: 'POST', body: form(meta, png) });
      expect({ status: res.status, retryAfter: res.headers.get('retry-after') }).toEqual({ status: 503, retryAfter: '7' });
      expect(((await res.json()) as { error: string }).error).toMatch(/retry later/);
    } finally {
      await edge.stop(100);
      await busy.stop(100);
    }
  });

  it('answers 400 for too many fields and for a truncated body', async () => {
    const many = form(Object.fromEntries(Array.from({ length: 120 }, (_, i) => [`f${i}`, 'x'])), png);
    expect((await protect(many)).status).toBe(400);

    const boundary = 'xyz';
    const truncated = `--${boundary}\r\nContent-Disposition: form-data; name="artist_name"\r\n\r\nJane\r\n--${boundary}\r\nContent-Disposition: form-data; name="image"; filename="a.png"\r\nContent-Type: image/png\r\n\r\n`;
    const res = await protect(truncated + png.subarray(0, 100).toString('latin1'), { 'Content-Type': `multipart/form-data; boundary=${boundary}` });
    expect(res.status).toBe(400);
  });

  it('cancels the gRPC upload when the client disconnects mid-upload: no job, no file', async () => {
    const before = jobCount(processor);
    const boundary = 'cut';
    const head = `--${boundary}\r\nContent-Disposition: form-data; name="artist_name"\r\n\r\nJane\r\n--${boundary}\r\nContent-Disposition: form-data; name="artwork_title"\r\n\r\nGone\r\n--${boundary}\r\nContent-Disposition: form-data; name="image"; filename="a.png"\r\nContent-Type: image/png\r\n\r\n`;
    const socket = net.connect(router.port, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write(`POST /protect HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=${boundary}\r\nContent-Length: ${head.length + png.length * 4}\r\n\r\n${head}`);
    socket.write(png);
    // The bytes so far reach the processor (a partly filled chunk is sent after UPLOAD_CHUNK_MAX_WAIT_MS)...
    const received = () => incomingFiles(processor).reduce((n, f) => n + fs.statSync(path.join(processor.workDir, 'incoming', f)).size, 0);
    await until(() => processor.processor.workspace !== undefined && received() >= png.length);
    // ...and must not become a job when the client goes away before the declared end.
    socket.destroy();
    await until(() => incomingFiles(processor).length === 0);
    expect(jobCount(processor)).toBe(before);
  });
});

describe('concurrent uploads', () => {
  it('keeps every upload its own bytes while they share the chunk buffers of the router, streamed or spooled', async () => {
    const pngs = await Promise.all([1, 2, 3, 4, 5, 6].map((seed) => makePng(400, 300, seed)));
    // several chunk messages each (UPLOAD_CHUNK_SIZE is 16 KiB here), so buffers go back and forth
    for (const p of pngs) expect(p.length).toBeGreaterThan(4 * 16384);
    // every other one with its fields after the file: spooled, then read back into the same buffers
    const answers = await Promise.all(pngs.map((p, i) => protect(form({ ...meta, artwork_title: `concurrent ${i}` }, p, i % 2 === 0))));
    expect(answers.map((a) => a.status)).toEqual(pngs.map(() => 202));
    for (const [i, answer] of answers.entries()) {
      const jobId = answer.json.job_id as string;
      await waitForJob(router.url, jobId);
      const original = await fetch(`${router.url}/jobs/${jobId}/download/original`);
      expect(sha256(Buffer.from(await original.arrayBuffer()))).toBe(sha256(pngs[i]));
    }
  });
});

describe('JSON image_url', () => {
  it('forwards an allowed URL as a reference and the job completes', async () => {
    const res = await protect(JSON.stringify({ ...meta, image_url: fixture.url('art.png') }), { 'Content-Type': 'application/json' });
    expect(res.status).toBe(202);
    expect((await waitForJob(router.url, res.json.job_id as string)).status).toBe('completed');
  });

  it('refuses private, loopback and metadata addresses not on the allowlist', async () => {
    for (const url of ['http://10.0.0.1/a.png', 'http://169.254.169.254/latest/meta-data', 'http://[::1]/a.png', 'file:///etc/passwd']) {
      const res = await protect(JSON.stringify({ ...meta, image_url: url }), { 'Content-Type': 'application/json' });
      expect(res.status).toBe(400);
      expect(res.json.field).toBe('image_url');
    }
  });

  it('answers 400 for malformed JSON and 413 for a JSON body over its 1 MiB limit', async () => {
    const malformed = await protect('{"artist_name":', { 'Content-Type': 'application/json' });
    expect(malformed.status).toBe(400);
    expect(malformed.json.error).toMatch(/malformed JSON/);
    const empty = await protect('', { 'Content-Type': 'application/json' });
    expect(empty.status).toBe(400);
    expect(empty.json.error).toMatch(/malformed JSON/);
    const huge = await protect(JSON.stringify({ ...meta, artwork_description: 'x'.repeat(1024 * 1024) }), { 'Content-Type': 'application/json' });
    expect(huge.status).toBe(413);
    expect(huge.json.error).toMatch(/JSON body too large/);
    // the same without a Content-Length (chunked): counted while it arrives
    const chunked = await new Promise<number>((resolve, reject) => {
      const req = http.request(`${router.url}/protect`, { method: 'POST', headers: { 'Content-Type': 'application/json' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.write(`{"artist_name":"${'x'.repeat(600 * 1024)}`);
      req.end(`${'y'.repeat(600 * 1024)}"}`);
    });
    expect(chunked).toBe(413);
  });

  it('answers 415 for compressed or non-UTF-8 JSON instead of misreading it', async () => {
    const gzipped = await protect(JSON.stringify(meta), { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' });
    expect(gzipped.status).toBe(415);
    expect(gzipped.json.error).toMatch(/Content-Encoding gzip/);
    const latin1 = await protect(JSON.stringify(meta), { 'Content-Type': 'application/json; charset=iso-8859-1' });
    expect(latin1.status).toBe(415);
    expect((await protect(JSON.stringify({ ...meta, image_url: fixture.url('art.png') }), { 'Content-Type': 'application/json; charset=UTF-8' })).status).toBe(202);
  });
});

describe('job API', () => {
  it('answers 404 for unknown ids on every route', async () => {
    for (const [method, path] of [
      ['GET', '/jobs/nope'],
      ['GET', '/jobs/nope/result'],
      ['GET', '/jobs/nope/download/original'],
      ['GET', '/jobs/nope/events'],
      ['DELETE', '/jobs/nope'],
    ]) {
      const res = await fetch(`${router.url}${path}`, { method });
      expect([method, path, res.status]).toEqual([method, path, 404]);
      expect(await res.json()).toHaveProperty('error');
    }
  });

  it('answers 409 with progress while a job waits, relays events, resumes with Last-Event-ID, and cancels', async () => {
    // Occupy the processor's only worker so the routed job stays queued.
    const stall = fixture.nextStall();
    const blocker = processor.processor.submitReference(specFor(), { location: { $case: 'http', http: { url: fixture.url('stall') } } });
    await stall;
    try {
      const res = await protect(form(meta, png));
      expect(res.status).toBe(202);
      const jobId = res.json.job_id as string;
      const pending = await fetch(`${router.url}/jobs/${jobId}/result`);
      expect(pending.status).toBe(409);
      expect(await pending.json()).toMatchObject({ status: 'queued', progress: { current_step: 'Waiting in queue', step_number: 0, total_steps: 4 } });

      const firstId = await firstEventId(`${router.url}/jobs/${jobId}/events`);
      const resumed = fetch(`${router.url}/jobs/${jobId}/events`, { headers: { 'Last-Event-ID': String(firstId) } }).then((r) => r.text());
      const cancel = await fetch(`${router.url}/jobs/${jobId}`, { method: 'DELETE' });
      expect(await cancel.json()).toMatchObject({ status: 'cancelled' });
      const text = await resumed;
      const ids = [...text.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));
      expect(ids.length).toBeGreaterThan(0);
      expect(ids.every((id) => id > firstId)).toBe(true);
      expect(text).toMatch(/event: done\ndata: .*"status":"cancelled"/);
    } finally {
      await processor.processor.cancel(blocker.jobId);
    }
  });
});

describe('operations', () => {
  it('echoes the request id and counts requests, bytes and gRPC calls in /metrics', async () => {
    const res = await fetch(`${router.url}/health`, { headers: { 'X-Request-Id': 'trace-123' } });
    expect(res.headers.get('x-request-id')).toBe('trace-123');
    expect(await res.json()).toMatchObject({ status: 'alive' });
    const metrics = await (await fetch(`${router.url}/metrics`)).text();
    expect(metrics).toMatch(/router_http_requests_total\{route="\/protect",method="POST",status="202"\} \d+/);
    expect(metrics).toMatch(/router_bytes_relayed_total\{mode="stream"\} [1-9]\d*/);
    expect(metrics).toMatch(/router_grpc_client_calls_total\{method="SubmitJob",code="OK"\} [1-9]/);
    expect(metrics).toMatch(/router_http_request_duration_seconds_bucket/);
  });

  it('is ready while the processor serves', async () => {
    const res = await fetch(`${router.url}/health/ready`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'ready', processors: { serving: 1, total: 1 } });
  });

  it('drains on stop: for DRAIN_DELAY_MS readiness is 503 while uploads are still taken, then it stops accepting', async () => {
    const draining = await startLocalRouter({ PROCESSOR_ADDR: processor.address, TRANSFER_MODE: 'stream', DRAIN_DELAY_MS: '3000' });
    const stopped = draining.stop(1000);
    const ready = await fetch(`${draining.url}/health/ready`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ status: 'draining' });
    expect((await fetch(`${draining.url}/health`)).status).toBe(200);
    const upload = await fetch(`${draining.url}/protect`, { method: 'POST', body: form(meta, png) });
    expect(upload.status).toBe(202);
    await stopped;
    await expect(fetch(`${draining.url}/health`)).rejects.toThrow();
  });
});

async function firstEventId(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => {
        text += d.toString();
        const match = /^id: (\d+)$/m.exec(text);
        if (match) {
          req.destroy();
          resolve(Number(match[1]));
        }
      });
    });
    req.on('error', reject);
  });
}

/** Polls for state the test cannot subscribe to (files on the processor's disk). */
async function until(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

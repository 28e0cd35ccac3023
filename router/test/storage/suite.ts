import { spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { DeleteObjectCommand, GetObjectCommand, ListMultipartUploadsCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { makePng, sha256, specFor, startHttpFixture } from '@artorizer/testkit';
import { LocalProcessor, LocalRouter, form, startLocalProcessor, startLocalRouter, waitForJob } from '../harness';
import { freePort } from '../ports';
import { MiB, REPO_ROOT, within } from '../wire';
import { TestStore, objectStoreOn } from './stores';

/** Opens a multipart POST /protect declaring a `fileBytes` image and sends its head; returns the socket. */
async function openUpload(port: number, fileBytes: number): Promise<net.Socket> {
  const boundary = 'cut';
  const head = `--${boundary}\r\nContent-Disposition: form-data; name="artist_name"\r\n\r\nJane\r\n--${boundary}\r\nContent-Disposition: form-data; name="artwork_title"\r\n\r\nCut\r\n--${boundary}\r\nContent-Disposition: form-data; name="image"; filename="a.png"\r\nContent-Type: image/png\r\n\r\n`;
  const tail = `\r\n--${boundary}--\r\n`;
  const socket = net.connect(port, '127.0.0.1');
  await new Promise((resolve) => socket.once('connect', resolve));
  socket.on('error', () => undefined);
  const length = head.length + fileBytes + tail.length;
  socket.write(`POST /protect HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=${boundary}\r\nContent-Length: ${length}\r\n\r\n${head}`);
  return socket;
}

/** Writes `bytes` of image (a PNG signature first) to an open upload, waiting for each write to be taken. */
async function sendImage(socket: net.Socket, from: number, bytes: number): Promise<void> {
  for (let at = from; at < from + bytes; at += MiB) {
    const piece = Buffer.alloc(Math.min(MiB, from + bytes - at), 7);
    if (at === 0) Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]).copy(piece);
    await new Promise<void>((resolve, reject) => socket.write(piece, (err) => (err ? reject(err) : resolve())));
  }
}

/**
 * The storage contract, written once and run against every store (the embedded s3rver and
 * a real Ceph RGW): each mode end to end, and nothing left behind when an upload fails.
 */
export function storageSuite(start: () => Promise<TestStore>, options: { strict: boolean }): void {
  let store: TestStore;
  let processor: LocalProcessor;
  let s3Router: LocalRouter;
  let keyRouter: LocalRouter;
  let png: Buffer;
  const meta = { artist_name: 'Jane Doe', artwork_title: 'Stored' };

  beforeAll(async () => {
    store = await start();
    png = await makePng(400, 300, 9);
    processor = await startLocalProcessor({ ...store.env, PROCESSOR_CONCURRENCY: '1' });
    s3Router = await startLocalRouter({ ...store.env, PROCESSOR_ADDR: processor.address, TRANSFER_MODE: 's3', MAX_FILE_SIZE: String(2 * 1024 * 1024) });
    keyRouter = await startLocalRouter({ ...store.env, PROCESSOR_ADDR: processor.address, TRANSFER_MODE: 's3', S3_REFERENCE: 'key' });
  }, 120_000);

  afterAll(async () => {
    await s3Router?.stop(100);
    await keyRouter?.stop(100);
    await processor?.stop(100);
    await store?.stop();
  }, 60_000);

  async function incompleteUploads(): Promise<string[]> {
    if (!store.strict) return []; // s3rver cannot list multipart uploads
    const out = await store.client.send(new ListMultipartUploadsCommand({ Bucket: store.bucket }));
    return (out.Uploads ?? []).map((u) => u.Key ?? '');
  }

  async function result(router: LocalRouter, jobId: string) {
    return (await (await fetch(`${router.url}/jobs/${jobId}/result`)).json()) as {
      analysis: { image: { sha256: string } };
      verified: { watermark_text: string };
      download_urls: Record<string, string>;
    };
  }

  it('s3 mode: streams the upload into the store, the processor fetches it by presigned URL, artifacts come back by redirect', async () => {
    const before = await store.keys('uploads/');
    const res = await fetch(`${s3Router.url}/protect`, { method: 'POST', body: form({ ...meta, watermark_text: 'stored-mark' }, png, false) });
    expect(res.status).toBe(202);
    const { job_id } = (await res.json()) as { job_id: string };
    expect((await waitForJob(s3Router.url, job_id)).status).toBe('completed');
    const uploads = (await store.keys('uploads/')).filter((k) => !before.includes(k));
    expect(uploads).toHaveLength(1);

    const body = await result(s3Router, job_id);
    expect(body.analysis.image.sha256).toBe(sha256(png));
    expect(body.verified.watermark_text).toBe('stored-mark');
    expect(await store.keys(`jobs/${job_id}/`)).toEqual(expect.arrayContaining([`jobs/${job_id}/protected.png`, `jobs/${job_id}/analysis.json`]));

    const redirect = await fetch(`${s3Router.url}${body.download_urls.protected}`, { redirect: 'manual' });
    expect(redirect.status).toBe(302);
    const location = redirect.headers.get('location')!;
    expect(location).toContain(`jobs/${job_id}/protected.png`);
    const stored = Buffer.from(await (await fetch(location)).arrayBuffer());
    expect(stored.subarray(1, 4).toString()).toBe('PNG');
  });

  it('s3 mode with bucket/key references: the processor reads the object with its own credentials', async () => {
    const res = await fetch(`${keyRouter.url}/protect`, { method: 'POST', body: form(meta, png) });
    expect(res.status).toBe(202);
    const { job_id } = (await res.json()) as { job_id: string };
    expect((await waitForJob(keyRouter.url, job_id)).status).toBe('completed');
    expect((await result(keyRouter, job_id)).analysis.image.sha256).toBe(sha256(png));
  });

  it('direct mode: the client PUTs to a presigned URL, then submits the upload_id', async () => {
    const grant = await fetch(`${s3Router.url}/uploads`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ content_type: 'image/png', size: png.length }),
    });
    expect(grant.status).toBe(201);
    const upload = (await grant.json()) as { upload_id: string; url: string; method: string; headers: Record<string, string>; expires_at: string };
    expect(upload.method).toBe('PUT');
    expect(new Date(upload.expires_at).getTime()).toBeGreaterThan(Date.now());
    const put = await fetch(upload.url, { method: 'PUT', headers: { 'Content-Type': upload.headers['Content-Type'] }, body: png });
    expect(put.status).toBe(200);

    const res = await fetch(`${s3Router.url}/protect`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ ...meta, upload_id: upload.upload_id }) });
    expect(res.status).toBe(202);
    const { job_id } = (await res.json()) as { job_id: string };
    expect((await waitForJob(s3Router.url, job_id)).status).toBe('completed');
    expect((await result(s3Router, job_id)).analysis.image.sha256).toBe(sha256(png));
  });

  it('refuses direct-upload grants for other content types or over the size limit', async () => {
    const post = (body: object) => fetch(`${s3Router.url}/uploads`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    expect((await post({ content_type: 'text/html', size: 10 })).status).toBe(415);
    expect((await post({ content_type: 'image/png', size: 3 * 1024 * 1024 })).status).toBe(413);
    expect((await post({ content_type: 'image/png' })).status).toBe(400);
  });

  it('answers a missing or non-image upload clearly and deletes what it refused', async () => {
    const missing = await fetch(`${s3Router.url}/protect`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ ...meta, upload_id: '00000000-0000-4000-8000-000000000000' }),
    });
    expect(missing.status).toBe(400);
    expect(await missing.json()).toMatchObject({ field: 'upload_id', error: expect.stringMatching(/not found/) });

    const grant = (await (
      await fetch(`${s3Router.url}/uploads`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ content_type: 'image/png', size: 20 }) })
    ).json()) as { upload_id: string; url: string };
    await fetch(grant.url, { method: 'PUT', headers: { 'Content-Type': 'image/png' }, body: Buffer.from('this is not an image') });
    const notImage = await fetch(`${s3Router.url}/protect`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ ...meta, upload_id: grant.upload_id }) });
    expect(notImage.status).toBe(415);
    expect(await store.keys(`uploads/${grant.upload_id}`)).toEqual([]);
  });

  it('leaves no object and no incomplete multipart upload when validation fails, the file is too large, or the client disconnects', async () => {
    const before = await store.keys('uploads/');
    const invalid = await fetch(`${s3Router.url}/protect`, { method: 'POST', body: form({ artwork_title: 'no artist' }, png, false) });
    expect(invalid.status).toBe(400);
    const tooLarge = await fetch(`${s3Router.url}/protect`, { method: 'POST', body: form(meta, Buffer.concat([png, Buffer.alloc(7 * 1024 * 1024)])) });
    expect(tooLarge.status).toBe(413);

    // A client that goes away after sending more than one part's worth.
    const boundary = 'gone';
    const head = `--${boundary}\r\nContent-Disposition: form-data; name="image"; filename="a.png"\r\nContent-Type: image/png\r\n\r\n`;
    const socket = net.connect(s3Router.port, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write(`POST /protect HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=${boundary}\r\nContent-Length: 99999999\r\n\r\n${head}`);
    socket.write(png);
    socket.write(Buffer.alloc(1024 * 1024));
    while ((await s3Router.metrics.inflightUploads.get()).values[0]?.value !== 1) await new Promise((r) => setTimeout(r, 5));
    socket.destroy();
    while ((await s3Router.metrics.inflightUploads.get()).values[0]?.value !== 0) await new Promise((r) => setTimeout(r, 5));

    expect((await store.keys('uploads/')).filter((k) => !before.includes(k))).toEqual([]);
    expect(await incompleteUploads()).toEqual([]);
  });

  it('aborts the multipart upload within 5 s of a client hanging up anywhere from the start of the upload to just before its end', async () => {
    const router = await startLocalRouter({ ...store.env, PROCESSOR_ADDR: processor.address, TRANSFER_MODE: 's3', MAX_FILE_SIZE: String(64 * MiB) });
    const inflight = async () => (await router.metrics.inflightUploads.get()).values[0]?.value ?? 0;
    try {
      const before = await store.keys('uploads/');
      const fileBytes = 40 * MiB;
      // Cut points in bytes sent: before the first 8 MiB part, just after it, mid-way, and 64 KiB before the end.
      for (const cut of [1 * MiB, 9 * MiB, 17 * MiB, 30 * MiB, fileBytes - 64 * 1024]) {
        const socket = await openUpload(router.port, fileBytes);
        await sendImage(socket, 0, cut);
        // On the real engine, hang up only once the multipart upload exists (past the first part).
        if (store.strict && cut > 8 * MiB) expect(await within(10_000, async () => (await incompleteUploads()).length > 0)).toBe(true);
        socket.destroy();
        const clean = await within(5000, async () => (await inflight()) === 0 && (await incompleteUploads()).length === 0 && (await store.keys('uploads/')).every((k) => before.includes(k)));
        expect({ cut, clean, incomplete: await incompleteUploads() }).toEqual({ cut, clean: true, incomplete: [] });
      }
    } finally {
      await router.stop(100);
    }
  }, 120_000);

  if (options.strict) {
    it("aborts what a router killed mid-upload left, by the next router's incomplete-upload sweep", async () => {
      const port = await freePort();
      const doomed = spawn(path.join(REPO_ROOT, 'node_modules/.bin/tsx'), ['router/src/main.ts'], {
        cwd: REPO_ROOT,
        env: { ...process.env, ...store.env, HOST: '127.0.0.1', PORT: String(port), PROCESSOR_ADDR: processor.address, TRANSFER_MODE: 's3', LOG_LEVEL: 'warn' },
        stdio: 'ignore',
        detached: true,
      });
      const exited = new Promise((resolve) => doomed.once('exit', resolve));
      let sweeper: LocalRouter | undefined;
      try {
        const health = async () => (await fetch(`http://127.0.0.1:${port}/health/live`).catch(() => undefined))?.ok === true;
        expect(await within(30_000, health)).toBe(true);
        const socket = await openUpload(port, 40 * MiB);
        await sendImage(socket, 0, 20 * MiB);
        expect(await within(10_000, async () => (await incompleteUploads()).length > 0)).toBe(true);
        process.kill(-doomed.pid!, 'SIGKILL');
        await exited;
        socket.destroy();
        // Nothing of the dead router's can abort it; its parts stay until a sweep does.
        expect((await incompleteUploads()).length).toBe(1);

        sweeper = await startLocalRouter({ ...store.env, PROCESSOR_ADDR: processor.address, TRANSFER_MODE: 's3', INCOMPLETE_UPLOAD_TTL_SECONDS: '1', STORE_SWEEP_INTERVAL_SECONDS: '1' });
        expect(await within(10_000, async () => (await incompleteUploads()).length === 0)).toBe(true);
      } finally {
        if (doomed.exitCode === null && doomed.signalCode === null) process.kill(-doomed.pid!, 'SIGKILL');
        await sweeper?.stop(100);
      }
    }, 120_000);
  }

  it('deletes the upload object when its job is cancelled', async () => {
    // Hold the processor's only worker so the job is still queued when it is cancelled.
    const fixture = await startHttpFixture({});
    const stall = fixture.nextStall();
    const blocker = processor.processor.submitReference(specFor(), { location: { $case: 'http', http: { url: fixture.url('stall') } } });
    await stall;
    try {
      const grant = (await (
        await fetch(`${s3Router.url}/uploads`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ content_type: 'image/png', size: png.length }) })
      ).json()) as { upload_id: string; url: string };
      await fetch(grant.url, { method: 'PUT', headers: { 'Content-Type': 'image/png' }, body: png });
      const res = await fetch(`${s3Router.url}/protect`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ ...meta, upload_id: grant.upload_id }) });
      const { job_id } = (await res.json()) as { job_id: string };
      expect(await store.keys(`uploads/${grant.upload_id}`)).toHaveLength(1);
      const cancel = await fetch(`${s3Router.url}/jobs/${job_id}`, { method: 'DELETE' });
      expect(await cancel.json()).toMatchObject({ status: 'cancelled' });
      expect(await store.keys(`uploads/${grant.upload_id}`)).toEqual([]);
    } finally {
      await processor.processor.cancel(blocker.jobId);
      await fixture.close();
    }
  });

  // What only a real S3 engine checks: signatures, expiry, policy bounds.
  if (options.strict) {
    async function grant(body: object) {
      const res = await fetch(`${s3Router.url}/uploads`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
      return (await res.json()) as { upload_id: string; url: string; fields: Record<string, string>; headers: Record<string, string> };
    }

    it('refuses a presigned PUT with more bytes than granted, or with another content type', async () => {
      const small = await grant({ content_type: 'image/png', size: 100 });
      const tooBig = await fetch(small.url, { method: 'PUT', headers: { 'Content-Type': 'image/png' }, body: png });
      expect(tooBig.status).toBeGreaterThanOrEqual(400);
      const other = await grant({ content_type: 'image/png', size: png.length });
      const wrongType = await fetch(other.url, { method: 'PUT', headers: { 'Content-Type': 'text/html' }, body: png });
      expect(wrongType.status).toBe(403);
      expect(await store.keys(`uploads/${small.upload_id}`)).toEqual([]);
      expect(await store.keys(`uploads/${other.upload_id}`)).toEqual([]);
    });

    it("enforces a presigned POST policy's size bound", async () => {
      const policy = await grant({ content_type: 'image/png', size: 100, method: 'POST' });
      const body = new FormData();
      for (const [k, v] of Object.entries(policy.fields)) body.append(k, v);
      body.append('file', new Blob([png], { type: 'image/png' }));
      const res = await fetch(policy.url, { method: 'POST', body });
      expect(res.status).toBe(400);
      expect(await res.text()).toMatch(/EntityTooLarge/);
    });

    it('refuses tampered and expired presigned GET URLs', async () => {
      const key = 'uploads/signature-check';
      await store.client.send(new PutObjectCommand({ Bucket: store.bucket, Key: key, Body: png }));
      const signer = objectStoreOn(store);
      const url = await signer.presignGet(key, 60);
      expect((await fetch(url)).status).toBe(200);
      expect((await fetch(url.replace(/X-Amz-Signature=[0-9a-f]/, (m) => m.slice(0, -1) + (m.endsWith('0') ? '1' : '0')))).status).toBe(403);
      const expired = await getSignedUrl(signer.client, new GetObjectCommand({ Bucket: store.bucket, Key: key }), { expiresIn: 60, signingDate: new Date(Date.now() - 3600_000) });
      expect((await fetch(expired)).status).toBe(403);
      await store.client.send(new DeleteObjectCommand({ Bucket: store.bucket, Key: key }));
      signer.close();
    });
  }
}

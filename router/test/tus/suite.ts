import { ChildProcess, spawn } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { GetObjectCommand, ListMultipartUploadsCommand, ListPartsCommand } from '@aws-sdk/client-s3';
import sharp from 'sharp';
import * as tus from 'tus-js-client';
import { LocalProcessor, LocalRouter, startLocalProcessor, startLocalRouter, waitForJob } from '../harness';
import { freePort } from '../ports';
import { Redis } from 'ioredis';
import { uploadClaimKey } from '../../src/submit/upload-claims';
import { REDIS_URL, dropPrefix, uniquePrefix } from '../queue/redis';
import { TestStore } from '../storage/stores';
import { MiB, REPO_ROOT, within } from '../wire';
import { CountingProxy, startCountingProxy } from './counting-proxy';

const PART_BYTES = 5 * MiB;
/** Request and header bytes a resumed upload may send beyond the missing bytes (HEAD, PATCH headers). */
const PROTOCOL_SLACK = 16 * 1024;

/** An incompressible PNG of about `megapixels` x 3 MB, so that it spans several parts. */
async function noisePng(width: number, height: number): Promise<Buffer> {
  return sharp(randomBytes(width * height * 3), { raw: { width, height, channels: 3 } })
    .png({ compressionLevel: 0 })
    .toBuffer();
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');
const idOf = (url: string) => url.split('/').pop()!;

/** A tus-js-client upload, started; `done` settles on success or error (not after abort()). */
function startUpload(data: Buffer, options: tus.UploadOptions): { upload: tus.Upload; done: Promise<void> } {
  let upload!: tus.Upload;
  const done = new Promise<void>((resolve, reject) => {
    upload = new tus.Upload(data, { retryDelays: null, ...options, onSuccess: () => resolve(), onError: reject });
  });
  done.catch(() => undefined);
  upload.start();
  return { upload, done };
}

/** The status the server answered a failed tus-js-client upload with. */
const statusOf = (err: unknown) => (err as tus.DetailedError).originalResponse?.getStatus();

/** Waits until tus-js-client has created the upload and knows its URL. */
async function urlOf(upload: tus.Upload): Promise<string> {
  expect(await within(10_000, () => Boolean(upload.url))).toBe(true);
  return upload.url!;
}

/**
 * Resumable uploads (tus 1.0 at /files), written once and run against every store (the
 * embedded s3rver with its multipart listing, and a real Ceph RGW), with tus-js-client as the
 * client and two routers sharing one Redis.
 */
export function tusSuite(start: () => Promise<TestStore>): void {
  let store: TestStore;
  let processor: LocalProcessor;
  let routerA: LocalRouter;
  let routerB: LocalRouter;
  let png: Buffer;
  const prefix = uniquePrefix('tus');
  const meta = { artist_name: 'Jane Doe', artwork_title: 'Resumed' };
  let env: Record<string, string>;

  beforeAll(async () => {
    store = await start();
    png = await noisePng(2048, 2048);
    processor = await startLocalProcessor({ ...store.env, PROCESSOR_CONCURRENCY: '1' });
    env = { ...store.env, PROCESSOR_ADDR: processor.address, REDIS_URL, REDIS_PREFIX: prefix, TUS_PART_SIZE: String(PART_BYTES), MAX_FILE_SIZE: String(32 * MiB) };
    routerA = await startLocalRouter(env);
    routerB = await startLocalRouter(env);
  }, 120_000);

  afterAll(async () => {
    await routerA?.stop(100);
    await routerB?.stop(100);
    await processor?.stop(100);
    await store?.stop();
    await dropPrefix(prefix);
  }, 60_000);

  async function objectsOf(uploadId: string): Promise<string[]> {
    return (await store.keys(`uploads/${uploadId}`)).sort();
  }

  async function multipartUploadsOf(uploadId: string): Promise<string[]> {
    const out = await store.client.send(new ListMultipartUploadsCommand({ Bucket: store.bucket, Prefix: `uploads/${uploadId}` }));
    return (out.Uploads ?? []).map((u) => u.Key ?? '');
  }

  async function storedSha(uploadId: string): Promise<string> {
    const out = await store.client.send(new GetObjectCommand({ Bucket: store.bucket, Key: `uploads/${uploadId}` }));
    return sha256(Buffer.from(await out.Body!.transformToByteArray()));
  }

  /** Parts of the upload's multipart upload now in the store (its id is in the upload's .info object). */
  async function partsOf(uploadId: string): Promise<number> {
    const info = await store.client.send(new GetObjectCommand({ Bucket: store.bucket, Key: `uploads/${uploadId}.info` }));
    const multipartId = info.Metadata?.['upload-id'];
    const out = await store.client.send(new ListPartsCommand({ Bucket: store.bucket, Key: `uploads/${uploadId}`, UploadId: multipartId }));
    return (out.Parts ?? []).length;
  }

  async function protect(router: LocalRouter, uploadId: string): Promise<{ status: number; body: Record<string, unknown> }> {
    const res = await fetch(`${router.url}/protect`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ ...meta, upload_id: uploadId }) });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }

  const tusHead = (url: string) => fetch(url, { method: 'HEAD', headers: { 'Tus-Resumable': '1.0.0' } });

  /** Resumes an upload at `url` through `proxy`; the bytes that reached the router. */
  async function resume(proxy: CountingProxy, url: string): Promise<number> {
    const before = proxy.forwarded;
    const { done } = startUpload(png, { uploadUrl: `${proxy.url}/files/${idOf(url)}`, endpoint: `${proxy.url}/files` });
    await done;
    return proxy.forwarded - before;
  }

  it('an upload the client aborts at half resumes through a second router, sending only the rest; the object is the file and the job completes', async () => {
    const proxyA = await startCountingProxy(routerA.port);
    const proxyB = await startCountingProxy(routerB.port);
    try {
      const stalled = proxyA.stallAt(Math.floor(png.length / 2));
      const { upload } = startUpload(png, { endpoint: `${proxyA.url}/files`, metadata: { filetype: 'image/png', filename: 'noise.png' } });
      await stalled;
      const url = await urlOf(upload);
      await upload.abort();
      const head = await tusHead(`${routerB.url}/files/${idOf(url)}`);
      const offset = Number(head.headers.get('upload-offset'));
      // the whole part before the cut is kept; the short piece after it too when the aborted
      // request ended before the HEAD asked it to let go (then it is sent again: the protocol's rule)
      expect({ status: head.status, kept: offset >= PART_BYTES }).toEqual({ status: 200, kept: true });

      const resent = await resume(proxyB, url);
      expect(resent).toBeLessThanOrEqual(png.length - offset + PROTOCOL_SLACK);
      expect(resent).toBeLessThan(png.length - PART_BYTES + PROTOCOL_SLACK);
      expect(await storedSha(idOf(url))).toBe(sha256(png));

      const submitted = await protect(routerB, url);
      expect(submitted.status).toBe(202);
      expect((await waitForJob(routerA.url, String(submitted.body.job_id))).status).toBe('completed');
    } finally {
      await proxyA.close();
      await proxyB.close();
    }
  }, 120_000);

  it('an upload whose router is killed mid-way resumes through another router from the parts that reached the store', async () => {
    const port = await freePort();
    const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'artorizer-tus-killed-'));
    let doomed: ChildProcess | undefined;
    const proxyKilled = await startCountingProxy(port);
    const proxyA = await startCountingProxy(routerA.port);
    try {
      // node itself runs the router (not the tsx CLI), so a SIGKILL kills the router
      doomed = spawn(process.execPath, ['--import', 'tsx', 'router/src/main.ts'], {
        cwd: REPO_ROOT,
        env: { ...process.env, ...env, HOST: '127.0.0.1', PORT: String(port), WORK_DIR: workDir, LOG_LEVEL: 'warn' },
        stdio: 'ignore',
        detached: true,
      });
      const exited = new Promise((resolve) => doomed!.once('exit', resolve));
      expect(await within(30_000, async () => (await fetch(`http://127.0.0.1:${port}/health/live`).catch(() => undefined))?.ok === true)).toBe(true);

      const stalled = proxyKilled.stallAt(Math.floor(png.length * 0.6));
      const { upload } = startUpload(png, { endpoint: `${proxyKilled.url}/files`, metadata: { filetype: 'image/png', filename: 'noise.png' } });
      await stalled;
      const url = await urlOf(upload);
      // the first part has reached the store before the router dies
      expect(await within(20_000, async () => (await partsOf(idOf(url))) >= 1)).toBe(true);
      process.kill(-doomed.pid!, 'SIGKILL');
      await exited;
      await upload.abort();

      const head = await tusHead(`${routerA.url}/files/${idOf(url)}`);
      const offset = Number(head.headers.get('upload-offset'));
      expect({ status: head.status, offset, parts: await partsOf(idOf(url)) }).toEqual({ status: 200, offset: PART_BYTES, parts: 1 });
      const resent = await resume(proxyA, url);
      expect(resent).toBeLessThanOrEqual(png.length - offset + PROTOCOL_SLACK);
      expect(await storedSha(idOf(url))).toBe(sha256(png));
      const submitted = await protect(routerA, idOf(url));
      expect(submitted.status).toBe(202);
      expect((await waitForJob(routerA.url, String(submitted.body.job_id))).status).toBe('completed');
    } finally {
      if (doomed && doomed.exitCode === null && doomed.signalCode === null) process.kill(-doomed.pid!, 'SIGKILL');
      await proxyKilled.close();
      await proxyA.close();
      fs.rmSync(workDir, { recursive: true, force: true });
    }
  }, 120_000);

  it('refuses a length over MAX_FILE_SIZE with 413 and a declared type that is not an image with 415, storing nothing', async () => {
    const before = await store.keys('uploads/');
    const tooLong = await fetch(`${routerA.url}/files`, { method: 'POST', headers: { 'Tus-Resumable': '1.0.0', 'Upload-Length': String(32 * MiB + 1) } });
    expect(tooLong.status).toBe(413);
    const noLength = await fetch(`${routerA.url}/files`, { method: 'POST', headers: { 'Tus-Resumable': '1.0.0', 'Upload-Defer-Length': '1' } });
    expect(noLength.status).toBeGreaterThanOrEqual(400);
    const text = startUpload(Buffer.from('just some words'), { endpoint: `${routerA.url}/files`, metadata: { filetype: 'text/plain', filename: 'notes.txt' } });
    await expect(text.done).rejects.toThrow();
    expect(statusOf(await text.done.catch((err: unknown) => err))).toBe(415);
    expect(await store.keys('uploads/')).toEqual(before);
  });

  it('deletes a finished upload whose bytes are not an image (415), and refuses its submit with 415', async () => {
    const { upload, done } = startUpload(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>'.repeat(100)), {
      endpoint: `${routerA.url}/files`,
      metadata: { filetype: 'image/png', filename: 'fake.png' },
    });
    expect(statusOf(await done.catch((err: unknown) => err))).toBe(415);
    const uploadId = idOf(await urlOf(upload));
    expect(await objectsOf(uploadId)).toEqual([]);
    expect(await multipartUploadsOf(uploadId)).toEqual([]);
    expect((await protect(routerB, uploadId)).status).toBe(415);
  });

  it('answers an unknown upload with 404 at /files and 400 at /protect, and an unfinished one with 409 at /protect', async () => {
    const unknown = randomUUID();
    expect((await tusHead(`${routerA.url}/files/${unknown}`)).status).toBe(404);
    const refused = await protect(routerA, unknown);
    expect(refused).toEqual({ status: 400, body: expect.objectContaining({ field: 'upload_id' }) });

    const created = await fetch(`${routerA.url}/files`, { method: 'POST', headers: { 'Tus-Resumable': '1.0.0', 'Upload-Length': String(png.length) } });
    expect(created.status).toBe(201);
    const url = created.headers.get('location')!;
    expect((await protect(routerB, url)).status).toBe(409);
    expect((await fetch(url, { method: 'DELETE', headers: { 'Tus-Resumable': '1.0.0' } })).status).toBe(204);
  });

  it('termination removes the object, its info and its multipart upload', async () => {
    const proxy = await startCountingProxy(routerA.port);
    try {
      const stalled = proxy.stallAt(PART_BYTES + MiB);
      const { upload } = startUpload(png, { endpoint: `${proxy.url}/files`, metadata: { filetype: 'image/png' } });
      await stalled;
      const uploadId = idOf(await urlOf(upload));
      expect(await within(10_000, async () => (await partsOf(uploadId)) >= 1)).toBe(true);
      await upload.abort();
      const res = await fetch(`${routerB.url}/files/${uploadId}`, { method: 'DELETE', headers: { 'Tus-Resumable': '1.0.0' } });
      expect(res.status).toBe(204);
      expect(await objectsOf(uploadId)).toEqual([]);
      expect(await multipartUploadsOf(uploadId)).toEqual([]);
      expect((await tusHead(`${routerA.url}/files/${uploadId}`)).status).toBe(404);
    } finally {
      await proxy.close();
    }
  }, 60_000);

  it('submits an upload whose last byte is in but whose router died before recording it (still "open")', async () => {
    const small = await noisePng(64, 64);
    const { upload, done } = startUpload(small, { endpoint: `${routerA.url}/files`, metadata: { filetype: 'image/png' } });
    await done;
    const uploadId = idOf(upload.url!);
    // what a router killed between the store's last part and its record of the upload leaves
    const redis = new Redis(REDIS_URL);
    try {
      await redis.set(uploadClaimKey(`${prefix}:`, 'tus', uploadId), 'open');
    } finally {
      redis.disconnect();
    }
    const submitted = await protect(routerB, uploadId);
    expect(submitted.status).toBe(202);
    expect((await waitForJob(routerA.url, String(submitted.body.job_id))).status).toBe('completed');
  }, 60_000);

  it('keeps a submitted upload from termination (409): the job reads it', async () => {
    const small = await noisePng(64, 64);
    const { upload, done } = startUpload(small, { endpoint: `${routerA.url}/files`, metadata: { filetype: 'image/png' } });
    await done;
    const submitted = await protect(routerA, upload.url!);
    expect(submitted.status).toBe(202);
    const res = await fetch(upload.url!, { method: 'DELETE', headers: { 'Tus-Resumable': '1.0.0' } });
    expect(res.status).toBe(409);
    expect((await waitForJob(routerA.url, String(submitted.body.job_id))).status).toBe('completed');
  }, 60_000);

  it('expires an unfinished upload: Upload-Expires at creation, 410 after TUS_UPLOAD_EXPIRY_SECONDS, then the sweep removes its parts and info', async () => {
    // no sweep after start-up on this router: the expired upload is still there to be refused
    const expiring = await startLocalRouter({ ...env, TUS_UPLOAD_EXPIRY_SECONDS: '4', STORE_SWEEP_INTERVAL_SECONDS: '3600' });
    const proxy = await startCountingProxy(expiring.port);
    let sweeper: LocalRouter | undefined;
    try {
      const created = await fetch(`${expiring.url}/files`, { method: 'POST', headers: { 'Tus-Resumable': '1.0.0', 'Upload-Length': String(png.length) } });
      expect(created.status).toBe(201);
      const expires = Date.parse(created.headers.get('upload-expires') ?? '');
      expect(expires).toBeGreaterThan(Date.now());
      const uploadId = idOf(created.headers.get('location')!);
      const stalled = proxy.stallAt(PART_BYTES + MiB);
      // no endpoint: tus-js-client cannot start a new upload in this one's place
      const { upload } = startUpload(png, { uploadUrl: `${proxy.url}/files/${uploadId}` });
      await stalled;
      expect(await within(10_000, async () => (await partsOf(uploadId)) >= 1)).toBe(true);
      await upload.abort();
      expect(await within(15_000, async () => (await tusHead(`${expiring.url}/files/${uploadId}`)).status === 410)).toBe(true);
      expect(Date.now()).toBeGreaterThan(expires);
      const patch = await fetch(`${expiring.url}/files/${uploadId}`, {
        method: 'PATCH',
        headers: { 'Tus-Resumable': '1.0.0', 'Upload-Offset': '0', 'Content-Type': 'application/offset+octet-stream' },
        body: Buffer.alloc(10),
      });
      expect(patch.status).toBe(410);
      expect(await multipartUploadsOf(uploadId)).toHaveLength(1);
      // the next router's start-up sweep removes it (incomplete uploads older than 1 s, resumable ones once expired)
      sweeper = await startLocalRouter({ ...env, TUS_UPLOAD_EXPIRY_SECONDS: '4', INCOMPLETE_UPLOAD_TTL_SECONDS: '1' });
      expect(await within(20_000, async () => (await objectsOf(uploadId)).length === 0 && (await multipartUploadsOf(uploadId)).length === 0)).toBe(true);
    } finally {
      await proxy.close();
      await expiring.stop(100);
      await sweeper?.stop(100);
    }
  }, 60_000);
}

import fs from 'node:fs';
import path from 'node:path';
import { HttpFixture, makePng, sha256, startHttpFixture } from '@artorizer/testkit';
import { Target, startTarget } from '../contract/target';

/* The original processor HTTP API (`/v1/jobs`), over the same core as the gRPC service. */
let target: Target;
let base: string;
let fixture: HttpFixture;
let png: Buffer;

beforeAll(async () => {
  target = await startTarget({ MAX_FILE_SIZE: String(1024 * 1024) });
  base = `http://127.0.0.1:${target.local!.httpPort}`;
  png = await makePng();
  fixture = await startHttpFixture({ 'art.png': png });
});

afterAll(async () => {
  await fixture.close();
  await target.stop();
});

function form(fields: Record<string, string>, file?: Buffer): FormData {
  const body = new FormData();
  for (const [k, v] of Object.entries(fields)) body.append(k, v);
  if (file) body.append('file', new Blob([file], { type: 'image/png' }), 'art.png');
  return body;
}

async function untilDone(jobId: string): Promise<{ status: string }> {
  await new Promise<void>((resolve, reject) => {
    const unsubscribe = target.local!.processor.watch(jobId, (event) => {
      if (!event.terminal) return;
      setImmediate(() => unsubscribe());
      resolve();
    });
    if (!unsubscribe) reject(new Error('watch failed'));
  });
  return (await fetch(`${base}/v1/jobs/${jobId}`)).json() as Promise<{ status: string }>;
}

it('accepts a multipart job with fields before or after the file, and serves status, result and downloads', async () => {
  for (const fieldsFirst of [true, false]) {
    const body = new FormData();
    const fields = { artist_name: 'Jane', artworkTitle: 'Both Orders', tags: 'a,b', watermark_text: 'legacy-mark' };
    if (!fieldsFirst) body.append('file', new Blob([png]), 'art.png');
    for (const [k, v] of Object.entries(fields)) body.append(k, v);
    if (fieldsFirst) body.append('file', new Blob([png]), 'art.png');
    const res = await fetch(`${base}/v1/jobs`, { method: 'POST', body });
    expect(res.status).toBe(202);
    const { job_id, status } = (await res.json()) as { job_id: string; status: string };
    expect(status).toBe('queued');

    expect((await untilDone(job_id)).status).toBe('completed');
    const result = (await (await fetch(`${base}/v1/jobs/${job_id}/result`)).json()) as {
      analysis: { image: { sha256: string } };
      verified: { watermark_text: string };
      download_urls: Record<string, string>;
    };
    expect(result.analysis.image.sha256).toBe(sha256(png));
    expect(result.verified.watermark_text).toBe('legacy-mark');
    const original = await fetch(`${base}${result.download_urls.original}`);
    expect(original.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await original.arrayBuffer()).equals(png)).toBe(true);
  }
});

it('accepts JSON with image_url', async () => {
  const res = await fetch(`${base}/v1/jobs`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ image_url: fixture.url('art.png'), artist_name: 'Jane', artwork_title: 'Remote', tags: ['x'] }),
  });
  expect(res.status).toBe(202);
  const { job_id } = (await res.json()) as { job_id: string };
  expect((await untilDone(job_id)).status).toBe('completed');
});

it('answers 409 with progress for an unfinished result and 404 for unknown jobs', async () => {
  const stall = fixture.nextStall();
  const res = await fetch(`${base}/v1/jobs`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ image_url: fixture.url('stall'), artist_name: 'Jane', artwork_title: 'Slow' }),
  });
  const { job_id } = (await res.json()) as { job_id: string };
  await stall;
  const pending = await fetch(`${base}/v1/jobs/${job_id}/result`);
  expect(pending.status).toBe(409);
  expect(await pending.json()).toMatchObject({ status: 'processing', progress: { step_number: 1, total_steps: 5 } });
  expect((await fetch(`${base}/v1/jobs/${job_id}`, { method: 'DELETE' })).status).toBe(200);
  expect((await fetch(`${base}/v1/jobs/nope`)).status).toBe(404);
});

it('rejects bad input with the field named, and leaves no file behind', async () => {
  const missing = await fetch(`${base}/v1/jobs`, { method: 'POST', body: form({ artwork_title: 'No Artist' }, png) });
  expect(missing.status).toBe(400);
  expect(await missing.json()).toMatchObject({ field: 'artist_name' });

  const noFile = await fetch(`${base}/v1/jobs`, { method: 'POST', body: form({ artist_name: 'A', artwork_title: 'B' }) });
  expect(noFile.status).toBe(400);
  expect(await noFile.json()).toMatchObject({ field: 'file' });

  const tooBig = await fetch(`${base}/v1/jobs`, { method: 'POST', body: form({ artist_name: 'A', artwork_title: 'B' }, Buffer.alloc(1024 * 1024 + 1)) });
  expect(tooBig.status).toBe(413);

  const badRange = await fetch(`${base}/v1/jobs`, { method: 'POST', body: form({ artist_name: 'A', artwork_title: 'B', max_stage_dim: '9999' }, png) });
  expect(badRange.status).toBe(400);
  expect(await badRange.json()).toMatchObject({ field: 'max_stage_dim' });

  const wrongType = await fetch(`${base}/v1/jobs`, { method: 'POST', headers: { 'Content-Type': 'text/plain' }, body: 'hello' });
  expect(wrongType.status).toBe(400);

  expect(fs.readdirSync(path.join(target.local!.workDir, 'incoming'))).toEqual([]);
});

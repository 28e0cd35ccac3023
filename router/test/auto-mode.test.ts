import { randomBytes } from 'node:crypto';
import sharp from 'sharp';
import { makePng } from '@artorizer/testkit';
import { LocalProcessor, LocalRouter, form, startLocalProcessor, startLocalRouter, waitForJob } from './harness';
import { TestStore, startEmbedded } from './storage/stores';

/* TRANSFER_MODE=auto (what `make up` runs): which path a multipart upload takes, with a store and no queue. */
let store: TestStore;
let processor: LocalProcessor;
const meta = { artist_name: 'Jane Doe', artwork_title: 'Auto' };

beforeAll(async () => {
  store = await startEmbedded('artorizer-auto');
  processor = await startLocalProcessor(store.env);
});

afterAll(async () => {
  await processor.stop(100);
  await store.stop();
});

async function relayed(router: LocalRouter): Promise<Record<string, number>> {
  const text = await (await fetch(`${router.url}/metrics`)).text();
  return Object.fromEntries([...text.matchAll(/^router_bytes_relayed_total\{mode="(\w+)"\} (\d+)/gm)].map((m) => [m[1], Number(m[2])]));
}

it('streams uploads of every size to the processor, storing nothing, when AUTO_S3_THRESHOLD is unset', async () => {
  const router = await startLocalRouter({ PROCESSOR_ADDR: processor.address, ...store.env });
  try {
    // noise does not compress: larger than the 8 MiB threshold auto had before it was measured
    const large = await sharp(randomBytes(1800 * 1700 * 3), { raw: { width: 1800, height: 1700, channels: 3 } })
      .png({ compressionLevel: 1 })
      .toBuffer();
    expect(large.length).toBeGreaterThan(8 * 1024 * 1024);
    const res = await fetch(`${router.url}/protect`, { method: 'POST', body: form(meta, large) });
    expect(res.status).toBe(202);
    expect(await waitForJob(router.url, ((await res.json()) as { job_id: string }).job_id)).toMatchObject({ status: 'completed' });
    expect(await relayed(router)).toMatchObject({ stream: large.length });
    expect((await relayed(router)).s3).toBeUndefined();
    expect(await store.keys('uploads/')).toEqual([]);
  } finally {
    await router.stop(100);
  }
});

it('sends uploads declaring at least AUTO_S3_THRESHOLD bytes through the store', async () => {
  const router = await startLocalRouter({ PROCESSOR_ADDR: processor.address, AUTO_S3_THRESHOLD: '1024', ...store.env });
  try {
    const png = await makePng(200, 100, 2);
    const res = await fetch(`${router.url}/protect`, { method: 'POST', body: form(meta, png) });
    expect(res.status).toBe(202);
    expect(await waitForJob(router.url, ((await res.json()) as { job_id: string }).job_id)).toMatchObject({ status: 'completed' });
    expect(await relayed(router)).toMatchObject({ s3: png.length });
  } finally {
    await router.stop(100);
  }
});

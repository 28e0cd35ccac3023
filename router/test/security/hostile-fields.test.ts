import { HttpFixture, makePng, startHttpFixture } from '@artorizer/testkit';
import { LocalProcessor, LocalRouter, form, startLocalProcessor, startLocalRouter } from '../harness';
import { REDIS_URL, describeWithRedis, dropPrefix, uniquePrefix } from '../queue/redis';

const meta = { artist_name: 'Jane', artwork_title: 'Poison' };

function deeplyNested(depth: number): string {
  return '['.repeat(depth) + ']'.repeat(depth);
}

async function post(router: LocalRouter, body: string): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${router.url}/protect`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

describeWithRedis('JSON fields that would harm other requests', () => {
  let processor: LocalProcessor;
  let fixture: HttpFixture;
  let streaming: LocalRouter;
  let queued: LocalRouter;
  const prefix = uniquePrefix('poison');

  beforeAll(async () => {
    processor = await startLocalProcessor();
    fixture = await startHttpFixture({ 'art.png': await makePng(64, 48, 5) });
    streaming = await startLocalRouter({ PROCESSOR_ADDR: processor.address, IMAGE_URL_ALLOWLIST: '127.0.0.1' });
    queued = await startLocalRouter({ PROCESSOR_ADDR: processor.address, IMAGE_URL_ALLOWLIST: '127.0.0.1', REDIS_URL, REDIS_PREFIX: prefix });
  });

  afterAll(async () => {
    await Promise.all([streaming.stop(100), queued.stop(100)]);
    await processor.stop(0);
    await fixture.close();
    await dropPrefix(prefix);
  });

  it('refuses JSON nested 150,000 deep, or a 900 kB array, with a 400 naming the field', async () => {
    const url = fixture.url('art.png');
    const deep = `{"artist_name":"Jane","artwork_title":"Deep","image_url":${JSON.stringify(url)},"extra_metadata":{"a":${deeplyNested(150_000)}}}`;
    expect(await post(streaming, deep)).toEqual({ status: 400, json: { error: expect.stringMatching(/nested deeper/), field: 'extra_metadata' } });
    const wide = JSON.stringify({ ...meta, image_url: url, c2pa_assertions: Array(300_000).fill(1) });
    expect(await post(streaming, wide)).toEqual({ status: 400, json: { error: expect.stringMatching(/more than/), field: 'c2pa_assertions' } });
    const res = await fetch(`${streaming.url}/protect`, { method: 'POST', body: form({ ...meta, extra_metadata: `{"a":${deeplyNested(50)}}` }, await makePng(32, 32, 1)) });
    expect({ status: res.status, body: await res.json() }).toEqual({ status: 400, body: { error: expect.stringMatching(/nested deeper/), field: 'extra_metadata' } });
  });

  it('one poisoned submit among thirty good ones at the same moment: thirty 202s', async () => {
    const good = JSON.stringify({ ...meta, image_url: fixture.url('art.png') });
    const poisoned = `{"artist_name":"Jane","artwork_title":"Deep","image_url":${JSON.stringify(fixture.url('art.png'))},"extra_metadata":{"a":${deeplyNested(150_000)}}}`;
    const answers = await Promise.all([post(queued, poisoned), ...Array.from({ length: 30 }, () => post(queued, good))]);
    expect(answers[0].status).toBe(400);
    expect(answers.slice(1).map((a) => a.status)).toEqual(Array(30).fill(202));
  });
});

import { HttpFixture, startHttpFixture } from '@artorizer/testkit';
import { LocalProcessor, LocalRouter, startLocalProcessor, startLocalRouter, waitForJob } from '../harness';
import { multipart } from '../wire';

const SVG = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.domain)</script></svg>');
const meta = { artist_name: 'Jane', artwork_title: 'Vector' };

describe('SVG is not an image here, on any path', () => {
  let processor: LocalProcessor;
  let router: LocalRouter;
  let fixture: HttpFixture;

  beforeAll(async () => {
    processor = await startLocalProcessor();
    fixture = await startHttpFixture({ 'art.svg': SVG });
    router = await startLocalRouter({ PROCESSOR_ADDR: processor.address, IMAGE_URL_ALLOWLIST: '127.0.0.1' });
  });

  afterAll(async () => {
    await router.stop(100);
    await processor.stop(0);
    await fixture.close();
  });

  it.each([['image/svg+xml'], ['application/octet-stream']])('refuses an uploaded SVG declared %s with 415', async (type) => {
    const { body, contentType } = multipart([
      { name: 'artist_name', value: meta.artist_name },
      { name: 'artwork_title', value: meta.artwork_title },
      { name: 'image', value: SVG, filename: 'art.svg', type },
    ]);
    const res = await fetch(`${router.url}/protect`, { method: 'POST', headers: { 'Content-Type': contentType }, body });
    expect(res.status).toBe(415);
  });

  it('fails a job whose image_url serves SVG, and serves nothing of it back', async () => {
    const res = await fetch(`${router.url}/protect`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ ...meta, image_url: fixture.url('art.svg') }) });
    expect(res.status).toBe(202);
    const { job_id } = (await res.json()) as { job_id: string };
    expect(await waitForJob(router.url, job_id)).toMatchObject({ status: 'failed', error: { reason: 'invalid_image' } });
    const original = await fetch(`${router.url}/jobs/${job_id}/download/original`);
    expect(original.headers.get('content-type')).not.toMatch(/svg|html/);
    expect(original.status).toBeGreaterThanOrEqual(400);
  });
});

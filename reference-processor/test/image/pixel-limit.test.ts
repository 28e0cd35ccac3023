import sharp from 'sharp';
import { JobErrorReason, JobState } from '@artorizer/contract';
import { ContractClient, bombPng, makePng, specFor } from '@artorizer/testkit';
import { Target, startTarget } from '../contract/target';

/* MAX_IMAGE_PIXELS: images over it fail before they are decoded, with TOO_LARGE. */

async function failure(client: ContractClient, image: Buffer) {
  const job = await client.submit(specFor(), image);
  const end = await client.waitForEnd(job.jobId);
  return { state: end.state, error: end.error };
}

describe('MAX_IMAGE_PIXELS', () => {
  let target: Target;
  let client: ContractClient;

  afterEach(async () => {
    client.close();
    await target.stop();
  });

  it('fails a 40000x40000 bomb with TOO_LARGE under the default limit, before decoding it, and goes on serving', async () => {
    target = await startTarget();
    client = new ContractClient(target.address);
    const bomb = bombPng(40_000, 40_000);
    expect((await sharp(bomb, { limitInputPixels: false }).metadata()).width).toBe(40_000);
    const before = process.memoryUsage().rss;
    expect(await failure(client, bomb)).toMatchObject({
      state: JobState.JOB_STATE_FAILED,
      error: { reason: JobErrorReason.JOB_ERROR_REASON_TOO_LARGE, message: expect.stringMatching(/40000x40000.*limit of 100000000 pixels \(MAX_IMAGE_PIXELS\)/) },
    });
    // 1.6 gigapixels decoded would be 4.8 GB; refusing from the header costs next to nothing.
    expect(process.memoryUsage().rss - before).toBeLessThan(200 * 1024 * 1024);
    const next = await client.submit(specFor(), await makePng());
    expect((await client.waitForEnd(next.jobId)).state).toBe(JobState.JOB_STATE_COMPLETED);
  });

  it('applies a configured limit: 1200x900 fails under 1,000,000 pixels, 1000x1000 passes', async () => {
    target = await startTarget({ MAX_IMAGE_PIXELS: '1000000' });
    client = new ContractClient(target.address);
    expect(await failure(client, await makePng(1200, 900))).toMatchObject({
      state: JobState.JOB_STATE_FAILED,
      error: { reason: JobErrorReason.JOB_ERROR_REASON_TOO_LARGE, message: expect.stringMatching(/limit of 1000000 pixels/) },
    });
    expect((await failure(client, await makePng(1000, 1000))).state).toBe(JobState.JOB_STATE_COMPLETED);
  });
});

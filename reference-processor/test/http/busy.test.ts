import { Job, JobState } from '@artorizer/contract';
import { ContractClient, HttpFixture, grpcError, makePng, specFor, startHttpFixture, status } from '@artorizer/testkit';
import { Target, startTarget } from '../contract/target';

/*
 * A full queue is "busy" (UNAVAILABLE: retry later or elsewhere), told apart from an image over
 * the size limit (RESOURCE_EXHAUSTED: never worth a retry), on gRPC and on the HTTP API.
 */
let target: Target;
let client: ContractClient;
let fixture: HttpFixture;
let png: Buffer;

beforeAll(async () => {
  png = await makePng();
  fixture = await startHttpFixture({ 'art.png': png });
  target = await startTarget({ PROCESSOR_CONCURRENCY: '1', MAX_QUEUED_JOBS: '1', MAX_FILE_SIZE: String(png.length + 10) });
  client = new ContractClient(target.address);
});

afterAll(async () => {
  client.close();
  await target.stop();
  await fixture.close();
});

it('answers a full queue with UNAVAILABLE (HTTP 503 with Retry-After), and an oversize image with RESOURCE_EXHAUSTED, as before', async () => {
  const stall = fixture.nextStall();
  const running = await client.submitByReference(specFor(), { location: { $case: 'http', http: { url: fixture.url('stall') } } });
  await stall;
  const queued = await client.submit(specFor(), png);

  const busy = await grpcError(client.submit(specFor(), png));
  expect({ code: busy.code, details: busy.details }).toEqual({ code: status.UNAVAILABLE, details: expect.stringMatching(/busy.*queue is full.*retry later/) });
  const form = new FormData();
  form.append('artist_name', 'A');
  form.append('artwork_title', 'B');
  form.append('file', new Blob([png], { type: 'image/png' }), 'art.png');
  const http = await fetch(`http://127.0.0.1:${target.local!.httpPort}/v1/jobs`, { method: 'POST', body: form });
  expect({ status: http.status, retryAfter: http.headers.get('retry-after') }).toEqual({ status: 503, retryAfter: '5' });

  await client.cancel(running.jobId);
  expect((await client.waitForEnd(queued.jobId)).state).toBe(JobState.JOB_STATE_COMPLETED);
  const tooLarge = await grpcError(client.submit(specFor(), Buffer.concat([png, Buffer.alloc(64)])));
  expect(tooLarge.code).toBe(status.RESOURCE_EXHAUSTED);
});

/** An upload queued behind a job stalled in its fetch; its file waits in incoming/ (`before` are the files there before it). */
async function queueBehindStall(): Promise<{ running: Job; queued: Job; before: string[] }> {
  const stall = fixture.nextStall();
  const running = await client.submitByReference(specFor(), { location: { $case: 'http', http: { url: fixture.url('stall') } } });
  await stall;
  const before = target.inside!.incomingFiles();
  const queued = await client.submit(specFor(), png);
  // a queued upload waits in incoming/ until its job starts
  expect(target.inside!.incomingFiles()).toHaveLength(before.length + 1);
  return { running, queued, before };
}

it("removes a queued upload's file when its job is cancelled before it starts", async () => {
  const { running, queued, before } = await queueBehindStall();

  expect((await client.cancel(queued.jobId)).state).toBe(JobState.JOB_STATE_CANCELLED);
  expect(target.inside!.incomingFiles()).toEqual(before);
  expect(target.inside!.jobFilesExist(queued.jobId)).toBe(false);
  await client.cancel(running.jobId);
});

it("removes a queued upload's file when the processor shuts down before the job starts", async () => {
  const { running, queued } = await queueBehindStall();

  // the processor's own shutdown (its folder, which the full stop removes too, is still there)
  await target.local!.processor.shutdown(0);
  expect((await client.getJob(queued.jobId)).state).toBe(JobState.JOB_STATE_FAILED);
  // the stalled job was stopped too, and its fetch removed its own file
  expect((await client.getJob(running.jobId)).state).toBe(JobState.JOB_STATE_FAILED);
  expect(target.inside!.incomingFiles()).toEqual([]);
});

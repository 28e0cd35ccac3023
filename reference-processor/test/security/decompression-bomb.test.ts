import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Metadata, ServiceError, credentials, makeGenericClientConstructor } from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import { JobErrorReason, JobState } from '@artorizer/contract';
import { ContractClient, bombPng, makePng, specFor } from '@artorizer/testkit';
import { ChildProcessor, peakMemoryBytes, startChildProcessor } from './child-processor';
import { multipartBody, postJobs } from './multipart';

/*
 * A decompression bomb (a PNG of a few hundred KB declaring 16000x16000 pixels, 768 MB decoded)
 * fails fast with TOO_LARGE from its header, while both health checks keep answering within a
 * second and the processor's peak memory stays far below the decoded size. A legit job runs
 * alongside and completes.
 */
const HEALTH_DEADLINE_MS = 1000;
const PEAK_MEMORY_BOUND = 600 * 1024 * 1024;

interface HealthClient {
  check(req: { service: string }, md: Metadata, opts: { deadline: Date }, cb: (err: ServiceError | null, res?: { status: string | number }) => void): void;
  close(): void;
}
const HealthClientCtor = makeGenericClientConstructor(healthService, 'Health');

let root: string;
let processor: ChildProcessor;
let client: ContractClient;
let health: HealthClient;

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'artorizer-bomb-'));
  processor = await startChildProcessor({ WORK_DIR: root });
  client = new ContractClient(processor.grpcAddress);
  health = new HealthClientCtor(processor.grpcAddress, credentials.createInsecure()) as unknown as HealthClient;
});

afterAll(async () => {
  client.close();
  health.close();
  await processor.stop();
  fs.rmSync(root, { recursive: true, force: true });
});

function grpcHealth(): Promise<void> {
  return new Promise((resolve, reject) =>
    health.check({ service: 'artorizer.v1.ProcessorService' }, new Metadata(), { deadline: new Date(Date.now() + HEALTH_DEADLINE_MS) }, (err, res) =>
      err ? reject(err) : res?.status === 'SERVING' || res?.status === 1 ? resolve() : reject(new Error(`health status ${String(res?.status)}`)),
    ),
  );
}

async function httpHealth(): Promise<void> {
  const res = await fetch(`${processor.httpUrl}/health`, { signal: AbortSignal.timeout(HEALTH_DEADLINE_MS) });
  expect(await res.json()).toEqual({ status: 'ok' });
}

/** Both health checks back to back until `done`; the longest round trip of each round. */
async function probe(done: () => boolean): Promise<number[]> {
  const rounds: number[] = [];
  do {
    const started = performance.now();
    await Promise.all([grpcHealth(), httpHealth()]);
    rounds.push(performance.now() - started);
  } while (!done());
  return rounds;
}

it('fails a 16000x16000 PNG bomb with TOO_LARGE within seconds, health answering within 1 s throughout, under 600 MB peak', async () => {
  const bomb = bombPng(16_000, 16_000);
  expect(bomb.length).toBeLessThan(1024 * 1024);
  const legit = await makePng(1600, 1200);
  await Promise.all([grpcHealth(), httpHealth()]);

  let ended = 0;
  const submitted = performance.now();
  const untilEnd = async (jobId: Promise<string>) => {
    const end = await client.waitForEnd(await jobId);
    ended++;
    return { end, seconds: (performance.now() - submitted) / 1000 };
  };
  const viaHttp = postJobs(
    processor.httpUrl,
    multipartBody([
      { name: 'artist_name', value: 'Jane' },
      { name: 'artwork_title', value: 'Bomb' },
      { name: 'file', filename: 'bomb.png', contentType: 'image/png', data: bomb },
    ]),
  ).then(async (res) => ((await res.json()) as { job_id: string }).job_id);
  const [rounds, grpcBomb, httpBomb, legitJob] = await Promise.all([
    probe(() => ended === 3),
    untilEnd(client.submit(specFor(), bomb).then((job) => job.jobId)),
    untilEnd(viaHttp),
    untilEnd(client.submit(specFor({ enable_stegano_embed: true }), legit).then((job) => job.jobId)),
  ]);

  for (const bombJob of [grpcBomb, httpBomb]) {
    expect(bombJob.end).toMatchObject({
      state: JobState.JOB_STATE_FAILED,
      error: { reason: JobErrorReason.JOB_ERROR_REASON_TOO_LARGE, message: expect.stringMatching(/16000x16000.*MAX_IMAGE_PIXELS/) },
    });
    expect(bombJob.seconds).toBeLessThan(5);
  }
  expect(legitJob.end.state).toBe(JobState.JOB_STATE_COMPLETED);
  expect(rounds.length).toBeGreaterThan(0);
  expect(Math.max(...rounds)).toBeLessThan(HEALTH_DEADLINE_MS);
  expect(peakMemoryBytes(processor.pid)).toBeLessThan(PEAK_MEMORY_BOUND);
});

import { once } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { status } from '@grpc/grpc-js';
import { JobStage, JobState, WatchJobResponse } from '@artorizer/contract';
import { defaultWorkRoot } from '@artorizer/service-kit';
import { ContractClient, chunksOf, makePng, specFor } from '@artorizer/testkit';
import { startProcessor } from '../../src/app';
import { loadConfig } from '../../src/config';
import { logger } from '../../src/logger';
import { ChildProcessor, filesUnder, startChildProcessor, waitFor } from './child-processor';
import { multipartBody, postJobs, sendPart } from './multipart';

/*
 * Nothing a request or a job wrote outlives it: hostile multipart bodies, hang-ups, cancelled
 * uploads, and a processor killed mid-upload and mid-job, whose folder the next start removes.
 * WORK_DIR is private (0700) and so is every file in it (0600).
 */
let root: string;
let workRoot: string;
let png: Buffer;
let processor: ChildProcessor | undefined;

const mode = (file: string) => fs.statSync(file).mode & 0o777;

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'artorizer-leftovers-'));
  // not there yet: the processor creates it, 0700
  workRoot = path.join(root, 'work');
  png = await makePng();
});

afterAll(async () => {
  await processor?.stop();
  fs.rmSync(root, { recursive: true, force: true });
});

it('reads MAX_FILE_SIZE, as the router does, and its former name MAX_IMAGE_SIZE only when MAX_FILE_SIZE is unset', () => {
  expect(loadConfig({ MAX_FILE_SIZE: '1000', MAX_IMAGE_SIZE: '2000' }).maxImageBytes).toBe(1000);
  expect(loadConfig({ MAX_IMAGE_SIZE: '2000' }).maxImageBytes).toBe(2000);
  expect(loadConfig({}).maxImageBytes).toBe(256 * 1024 * 1024);
});

it('reads WORK_DIR, and its former name PROCESSOR_WORK_DIR only when WORK_DIR is unset', () => {
  expect(loadConfig({ WORK_DIR: '/srv/work', PROCESSOR_WORK_DIR: '/srv/old' })).toMatchObject({ workRoot: '/srv/work', workRootFromDeprecatedName: false });
  expect(loadConfig({ PROCESSOR_WORK_DIR: '/srv/old' })).toMatchObject({ workRoot: '/srv/old', workRootFromDeprecatedName: true });
  expect(loadConfig({}).workRoot).toBe(defaultWorkRoot('processor'));
});

it('removes its folder when it fails to start', async () => {
  const taken = net.createServer().listen(0, '127.0.0.1');
  await once(taken, 'listening');
  const startRoot = path.join(root, 'failed-start');
  const grpcLog = jest.spyOn(console, 'error').mockImplementation(() => undefined); // grpc-js reports the failed bind there
  try {
    const port = String((taken.address() as net.AddressInfo).port);
    const config = loadConfig({ HOST: '127.0.0.1', GRPC_PORT: port, HTTP_PORT: '-1', WORK_DIR: startRoot });
    await expect(startProcessor(config, logger)).rejects.toThrow();
    expect(fs.readdirSync(startRoot)).toEqual([]);
  } finally {
    grpcLog.mockRestore();
    taken.close();
  }
});

describe('a processor that is hung up on and killed', () => {
  let client: ContractClient;
  let incoming: string;

  beforeAll(async () => {
    processor = await startChildProcessor({ WORK_DIR: workRoot, PROCESSOR_CONCURRENCY: '1' });
    client = new ContractClient(processor.grpcAddress);
    incoming = path.join(processor.workDir, 'incoming');
  });

  afterAll(() => client.close());

  it('keeps its folder in WORK_DIR, private', () => {
    expect(path.dirname(processor!.workDir)).toBe(workRoot);
    expect(mode(workRoot)).toBe(0o700);
    for (const dir of [processor!.workDir, incoming, path.join(processor!.workDir, 'jobs')]) expect(mode(dir)).toBe(0o700);
  });

  it('leaves no file for a multipart body with the file first and then 200 fields', async () => {
    const fields = Array.from({ length: 200 }, (_, i) => ({ name: `field${i}`, value: 'x' }));
    const body = multipartBody([{ name: 'file', filename: 'art.png', contentType: 'image/png', data: png }, ...fields]);
    const res = await postJobs(processor!.httpUrl, body);
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: expect.stringMatching(/too many parts/) });
    expect(filesUnder(processor!.workDir)).toEqual([]);
  });

  it('leaves no file when the client hangs up before, inside and after the file part', async () => {
    const big = Buffer.concat([png, Buffer.alloc(2 * 1024 * 1024, 1)]);
    const parts = multipartBody([
      { name: 'file', filename: 'art.png', contentType: 'image/png', data: big },
      { name: 'artist_name', value: 'Jane' },
      { name: 'artwork_title', value: 'Hang-up' },
    ]);
    const fileStart = parts.indexOf(big.subarray(0, 16));
    const cuts = [
      { at: 20, written: 0 },
      { at: fileStart + 100, written: 100 },
      { at: fileStart + 1024 * 1024, written: 1024 * 1024 },
      { at: fileStart + big.length + 60, written: big.length },
    ];
    for (const cut of cuts) {
      const socket = await sendPart(processor!.httpUrl, parts, cut.at);
      // mid-file cuts: hang up only once the processor has written what it was sent
      if (cut.written > 0) await expect(waitFor(() => filesUnder(incoming).some((f) => fs.statSync(f).size >= cut.written))).resolves.toBe(true);
      socket.destroy();
      await expect(waitFor(() => filesUnder(processor!.workDir).length === 0)).resolves.toBe(true);
    }
  });

  it('leaves no file when a gRPC upload is cancelled mid-stream', async () => {
    let cancel = () => undefined as void;
    const outcome = new Promise<{ code?: number } | null>((resolve) => {
      const call = client.raw.submitJob((err) => resolve(err));
      call.write({ payload: { $case: 'spec', spec: specFor() } });
      call.write({ payload: { $case: 'chunk', chunk: png.subarray(0, 8192) } });
      cancel = () => call.cancel();
    });
    // the upload must have reached disk, or its removal proves nothing
    expect(await waitFor(() => filesUnder(incoming).length > 0)).toBe(true);
    cancel();
    expect((await outcome)?.code).toBe(status.CANCELLED);
    await expect(waitFor(() => filesUnder(processor!.workDir).length === 0)).resolves.toBe(true);
  });

  it('writes private files while a job runs, and leaves files behind when SIGKILLed mid-upload and mid-job', async () => {
    // Large enough to be still protecting when it is killed (the LSB layer makes it a PNG out).
    const large = await makePng(6000, 4000, 2);
    const job = await client.submit(specFor({ enable_stegano_embed: true, stegano_message: 'killed' }), large, 1024 * 1024);
    const jobDir = path.join(processor!.workDir, 'jobs', job.jobId);
    const protecting = new Promise<void>((resolve, reject) => {
      const watch = client.raw.watchJob({ jobId: job.jobId });
      watch.on('data', (event: WatchJobResponse) => {
        if (event.job?.progress?.stage !== JobStage.JOB_STAGE_PROTECTING) return;
        watch.cancel();
        resolve();
      });
      watch.on('error', (err: { code?: number }) => (err.code === status.CANCELLED ? undefined : reject(err)));
    });
    await protecting;
    await expect(waitFor(() => fs.existsSync(path.join(jobDir, 'protected.png')))).resolves.toBe(true);

    const upload = client.raw.submitJob(() => undefined);
    upload.write({ payload: { $case: 'spec', spec: specFor() } });
    for (const chunk of chunksOf(large.subarray(0, 3 * 1024 * 1024), 256 * 1024)) upload.write({ payload: { $case: 'chunk', chunk } });
    await expect(waitFor(() => filesUnder(incoming).some((f) => fs.statSync(f).size >= 1024 * 1024))).resolves.toBe(true);

    expect((await client.getJob(job.jobId)).state).toBe(JobState.JOB_STATE_PROCESSING);
    const written = filesUnder(processor!.workDir);
    expect(written.map((f) => path.relative(processor!.workDir, f)).sort()).toEqual(expect.arrayContaining([path.join('jobs', job.jobId, 'original'), path.join('jobs', job.jobId, 'protected.png')]));
    for (const file of written) expect({ file, mode: mode(file) }).toEqual({ file, mode: 0o600 });
    expect(mode(jobDir)).toBe(0o700);

    processor!.child.kill('SIGKILL');
    const [, signal] = await processor!.exited;
    expect(signal).toBe('SIGKILL');
    upload.cancel();
    expect(filesUnder(workRoot).length).toBeGreaterThanOrEqual(3);
  });
});

describe('the next processor on the same WORK_DIR', () => {
  it("removes the dead one's folder before it listens, keeps the root private, and leaves the root empty when it stops", async () => {
    const killedDir = processor!.workDir;
    processor = await startChildProcessor({ WORK_DIR: workRoot });
    expect(processor.logs).toContainEqual(expect.objectContaining({ msg: 'removed the working folders of processors that died', swept: 1 }));
    expect(fs.existsSync(killedDir)).toBe(false);
    expect(filesUnder(workRoot)).toEqual([]);

    const client = new ContractClient(processor.grpcAddress);
    try {
      const job = await client.submit(specFor(), png);
      expect((await client.waitForEnd(job.jobId)).state).toBe(JobState.JOB_STATE_COMPLETED);
      const files = filesUnder(processor.workDir);
      expect(files.length).toBeGreaterThanOrEqual(3);
      for (const file of files) expect({ file, mode: mode(file) }).toEqual({ file, mode: 0o600 });
    } finally {
      client.close();
    }
    expect(await processor.stop()).toBe(0);
    processor = undefined;
    expect(fs.readdirSync(workRoot)).toEqual([]);
  });
});

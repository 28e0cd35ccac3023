import { spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { JobErrorReason, JobState } from '@artorizer/contract';
import { ContractClient, makePng, specFor, startHttpFixture } from '@artorizer/testkit';

const TSX = path.resolve(__dirname, '../../../node_modules/.bin/tsx');
const MAIN = path.resolve(__dirname, '../../src/main.ts');

it('on SIGTERM stops taking jobs, fails queued ones, cancels running ones after the grace period, removes its files and exits 0', async () => {
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'artorizer-shutdown-'));
  const png = await makePng();
  const fixture = await startHttpFixture({ 'art.png': png });
  const child = spawn(TSX, [MAIN], {
    env: {
      ...process.env,
      GRPC_PORT: '0',
      HTTP_PORT: '-1',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      WORK_DIR: workDir,
      IMAGE_URL_ALLOWLIST: '127.0.0.1',
      SHUTDOWN_GRACE_MS: '300',
      PROCESSOR_CONCURRENCY: '1',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = readline.createInterface({ input: child.stdout! });
  let grpcPort = 0;
  for await (const line of lines) {
    const entry = JSON.parse(line) as { msg: string; grpcPort?: number };
    if (entry.msg === 'processor listening') {
      grpcPort = entry.grpcPort!;
      break;
    }
  }
  const client = new ContractClient(`127.0.0.1:${grpcPort}`);
  try {
    const stall = fixture.nextStall();
    const running = await client.submitByReference(specFor(), { location: { $case: 'http', http: { url: fixture.url('stall') } } });
    await stall;
    const queued = await client.submitByReference(specFor(), { location: { $case: 'http', http: { url: fixture.url('art.png') } } });
    const runningEnd = client.waitForEnd(running.jobId);
    const queuedEnd = client.waitForEnd(queued.jobId);

    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    const [queuedJob, runningJob] = await Promise.all([queuedEnd, runningEnd]);
    expect(queuedJob).toMatchObject({ state: JobState.JOB_STATE_FAILED, error: { reason: JobErrorReason.JOB_ERROR_REASON_SHUTDOWN } });
    expect(runningJob).toMatchObject({ state: JobState.JOB_STATE_FAILED, error: { reason: JobErrorReason.JOB_ERROR_REASON_SHUTDOWN } });
    const [code] = await exited;
    expect(code).toBe(0);
    expect(fs.readdirSync(workDir)).toEqual([]);
  } finally {
    client.close();
    child.kill('SIGKILL');
    await fixture.close();
    fs.rmSync(workDir, { recursive: true, force: true });
  }
});

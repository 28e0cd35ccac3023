import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import { AddressInfo } from 'node:net';
import path from 'node:path';
import { HttpFixture, makePng, specFor, startHttpFixture } from '@artorizer/testkit';
import { sha256Hex } from '../../router/src/security/api-keys';
import { LocalRouter, startLocalRouter } from '../../router/test/harness';
import { freePort } from '../../router/test/ports';
import { within } from '../../router/test/wire';
import { CliRun, runCli, tempDir } from './cli-run';
import { Stack, startStack } from './stack';

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');
const JOB_ID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/;

let dir: string;
let png: Buffer;

beforeAll(async () => {
  dir = tempDir('jobs');
  png = await makePng(480, 360, 5);
  fs.writeFileSync(path.join(dir, 'art.png'), png);
});

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

const cli = (routerUrl: string, args: string[], env: Record<string, string> = {}): Promise<CliRun> => runCli(args, { routerUrl, cwd: dir, stateDir: path.join(dir, '.state'), env });

/** Submits art.png without waiting; the job id from the CLI's JSON line. */
async function submitted(routerUrl: string): Promise<string> {
  const run = await cli(routerUrl, ['protect', 'art.png', '--artist', 'Jane Doe', '--json']);
  expect(run.code).toBe(0);
  const [line] = run.json();
  expect(line).toMatchObject({ file: 'art.png', status: 'queued', job_id: expect.stringMatching(JOB_ID) });
  return String(line.job_id);
}

describe('job commands against a router with a store and a one-worker processor', () => {
  let stack: Stack;
  let fixture: HttpFixture;

  beforeAll(async () => {
    fixture = await startHttpFixture({});
    stack = await startStack({ store: true, bucket: 'artorizer-cli-jobs', processorEnv: { PROCESSOR_CONCURRENCY: '1' } });
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
    await fixture?.close();
  }, 60_000);

  /** Occupies the processor's only worker with a reference that never arrives, so the next job stays queued; releases it when done. */
  async function withWorkerBusy<T>(body: () => Promise<T>): Promise<T> {
    const stall = fixture.nextStall();
    const blocker = stack.processor.processor.submitReference(specFor(), { location: { $case: 'http', http: { url: fixture.url('stall') } } });
    await stall;
    try {
      return await body();
    } finally {
      await stack.processor.processor.cancel(blocker.jobId).catch(() => undefined);
      // the held fetch fails at once, so the worker is free for the next job
      for (const res of fixture.stalled.splice(0)) res.destroy();
    }
  }

  it('watch, status and download a job, and refuse to cancel it once completed', async () => {
    const url = stack.router.url;
    const id = await submitted(url);

    const watched = await cli(url, ['watch', id]);
    expect({ code: watched.code, stdout: watched.stdout }).toEqual({ code: 0, stdout: `job ${id}  completed\n` });

    const status = await cli(url, ['status', id, '--json']);
    expect(status.code).toBe(0);
    expect(status.json()).toEqual([expect.objectContaining({ job_id: id, status: 'completed', progress: expect.objectContaining({ percentage: 100 }) })]);

    // the store serves the artifacts: the router answers 302 to a presigned URL, which the CLI follows without its key
    const artifacts = ((await (await fetch(`${url}/jobs/${id}/result`)).json()) as { artifacts: { variant: string; sha256: string }[] }).artifacts;
    const shaOf = (variant: string) => artifacts.find((a) => a.variant === variant)!.sha256;
    const intoFolder = await cli(url, ['download', id, 'protected', '-o', 'downloads/', '--json']);
    expect(intoFolder.code).toBe(0);
    const [saved] = intoFolder.json();
    expect(saved).toEqual({ job_id: id, variant: 'protected', path: path.join('downloads', `${id}-protected.png`), bytes: expect.any(Number), content_type: 'image/png' });
    expect(sha256(fs.readFileSync(path.join(dir, String(saved.path))))).toBe(shaOf('protected'));

    const named = await cli(url, ['download', id, 'analysis', '-o', 'analysis.json']);
    expect(named.code).toBe(0);
    expect(named.stdout).toMatch(/^saved analysis\.json \(application\/json, /);
    expect(sha256(fs.readFileSync(path.join(dir, 'analysis.json')))).toBe(shaOf('analysis'));

    const toStdout = await cli(url, ['download', id, 'original', '-o', '-']);
    expect(toStdout.code).toBe(0);
    expect(toStdout.stdoutBytes.equals(png)).toBe(true);

    const unknownVariant = await cli(url, ['download', id, 'poster']);
    expect(unknownVariant.code).toBe(3);
    expect(unknownVariant.stderr).toContain(`job ${id} has no artifact "poster"; it has: original, protected, analysis`);

    const cancel = await cli(url, ['cancel', id]);
    expect({ code: cancel.code, stderr: cancel.stderr }).toEqual({ code: 3, stderr: `job ${id} has already completed; nothing to cancel\n` });
  }, 120_000);

  it('cancels a queued job: cancel exits 0, then status and watch report it cancelled with exit 1', async () => {
    const url = stack.router.url;
    await withWorkerBusy(async () => {
      const id = await submitted(url);
      const queued = await cli(url, ['status', id]);
      expect({ code: queued.code, stdout: queued.stdout }).toEqual({ code: 0, stdout: `job ${id}  queued\n` });

      const cancel = await cli(url, ['cancel', id, '--json']);
      expect(cancel.code).toBe(0);
      expect(cancel.json()).toEqual([expect.objectContaining({ job_id: id, status: 'cancelled' })]);

      const status = await cli(url, ['status', id]);
      expect({ code: status.code, stdout: status.stdout }).toEqual({ code: 1, stdout: `job ${id}  cancelled\n` });
      const watch = await cli(url, ['watch', id, '--json']);
      expect(watch.code).toBe(1);
      expect(watch.json()).toEqual([expect.objectContaining({ job_id: id, status: 'cancelled' })]);
      const download = await cli(url, ['download', id, 'protected']);
      expect(download.code).toBe(3);
      expect(download.stderr).toMatch(/not completed/);
    });
  }, 120_000);

  it('answers an unknown job id with exit 3 and "not found" on every job command', async () => {
    const url = stack.router.url;
    for (const args of [
      ['status', 'no-such-job'],
      ['watch', 'no-such-job'],
      ['download', 'no-such-job', 'protected'],
      ['cancel', 'no-such-job'],
    ]) {
      const run = await cli(url, args);
      expect({ args, code: run.code, stderr: run.stderr }).toEqual({ args, code: 3, stderr: 'job no-such-job not found: the id is wrong, or the router no longer keeps the job\n' });
    }
  }, 120_000);

  it('watch opens the event stream again with Last-Event-ID when it drops before the end, and still ends with the job', async () => {
    const proxy = await startCuttingProxy(stack.router.port);
    try {
      await withWorkerBusy(async () => {
        const id = await submitted(stack.router.url);
        const watching = cli(proxy.url, ['watch', id, '--json']);
        // the first stream was cut after its first event; the CLI came back for what follows it
        expect(await within(30_000, () => proxy.eventRequests.length >= 2)).toBe(true);
        expect(proxy.eventRequests[0].lastEventId).toBeUndefined();
        expect(proxy.eventRequests[1].lastEventId).toBe(proxy.firstEventId);
        return watching;
      }).then(async (watching) => {
        const run = await watching;
        expect(run.code).toBe(0);
        expect(run.json()).toEqual([expect.objectContaining({ status: 'completed' })]);
      });
    } finally {
      await proxy.close();
    }
  }, 120_000);
});

/**
 * A proxy in front of the router that cuts the first event stream right after its first event
 * (as a load balancer's idle timeout or a network change would), and records each stream's
 * Last-Event-ID.
 */
async function startCuttingProxy(routerPort: number): Promise<{ url: string; eventRequests: { lastEventId?: string }[]; firstEventId?: string; close(): Promise<void> }> {
  const state: { eventRequests: { lastEventId?: string }[]; firstEventId?: string } = { eventRequests: [] };
  const server = http.createServer((req, res) => {
    const isEvents = /\/events$/.test(req.url ?? '');
    if (isEvents) state.eventRequests.push({ lastEventId: req.headers['last-event-id'] as string | undefined });
    const cut = isEvents && state.eventRequests.length === 1;
    const upstream = http.request({ host: '127.0.0.1', port: routerPort, path: req.url, method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      let text = '';
      answer.on('data', (chunk: Buffer) => {
        res.write(chunk);
        if (!cut) return;
        text += chunk.toString('utf8');
        const event = /(?:^|\n)id: (\d+)\n[^]*?\n\n/.exec(text);
        if (event) {
          state.firstEventId = event[1];
          // the stream ends here, before its `done`
          answer.destroy();
          res.end();
        }
      });
      answer.on('end', () => res.end());
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  server.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  return Object.assign(state, {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  });
}

describe('routers the CLI cannot use', () => {
  it('a router that is down: a clear message and exit 4, for every file and command', async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const protect = await cli(url, ['protect', 'art.png', '--artist', 'Jane Doe', '--wait']);
    expect({ code: protect.code, stdout: protect.stdout, stderr: protect.stderr }).toEqual({
      code: 4,
      stdout: '',
      stderr: `cannot reach the router at ${url} (connection refused): is it running? \`make up\` starts one\n`,
    });

    const json = await cli(url, ['protect', 'art.png', 'art.png', '--artist', 'Jane Doe', '--json']);
    expect(json.code).toBe(4);
    expect(json.json()).toEqual([0, 1].map(() => ({ file: 'art.png', status: 'error', error: expect.objectContaining({ exit_code: 4, message: expect.stringContaining('(connection refused)') }) })));

    const status = await cli(url, ['status', 'some-job']);
    expect({ code: status.code, stderr: status.stderr }).toEqual({ code: 4, stderr: `cannot reach the router at ${url} (connection refused): is it running? \`make up\` starts one\n` });
  }, 120_000);

  it('a router with no processor serving: asks again as Retry-After says, then exit 4 saying how often', async () => {
    const router = await startLocalRouter({ PROCESSOR_ADDR: `127.0.0.1:${await freePort()}`, RETRY_AFTER_SECONDS: '1' });
    try {
      const run = await cli(router.url, ['protect', 'art.png', '--artist', 'Jane Doe']);
      expect(run.code).toBe(4);
      expect(run.stderr).toContain('art.png: the router is busy (processor unavailable); asking again in 1 s');
      expect(run.stderr).toMatch(/^the router is busy \(processor unavailable\); retried 3 times, last asked to wait 1 s$/m);
    } finally {
      await router.stop(100);
    }
  }, 120_000);

  it('usage errors exit 2 before anything is sent', async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const noArtist = await cli(url, ['protect', 'art.png']);
    expect(noArtist.code).toBe(2);
    expect(noArtist.stderr).toContain("required option '--artist <name>' not specified");
    const badConcurrency = await cli(url, ['protect', 'art.png', '--artist', 'J', '--concurrency', '0']);
    expect(badConcurrency.code).toBe(2);
    expect(badConcurrency.stderr).toContain('must be a whole number from 1 to 16');
    const unknownCommand = await cli(url, ['protekt', 'art.png']);
    expect(unknownCommand.code).toBe(2);
    const help = await cli(url, ['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Exit codes:');
  }, 120_000);
});

describe('a router that wants API keys', () => {
  const SECRET = 'art_cli-test-secret';
  let stack: Stack;
  let keyed: LocalRouter;

  beforeAll(async () => {
    const keysFile = path.join(dir, 'api-keys');
    fs.writeFileSync(keysFile, `cli:${sha256Hex(SECRET)}\n`);
    stack = await startStack({ store: true, bucket: 'artorizer-cli-keys' });
    keyed = await startLocalRouter({ ...stack.store!.env, PROCESSOR_ADDR: stack.processor.address, API_KEYS_FILE: keysFile });
  }, 120_000);

  afterAll(async () => {
    await keyed?.stop(100);
    await stack?.stop();
  }, 60_000);

  it('without a key or with a wrong one: exit 5 and what to do; with the key: uploads, waits and saves', async () => {
    const none = await cli(keyed.url, ['protect', 'art.png', '--artist', 'Jane Doe']);
    expect({ code: none.code, stderr: none.stderr }).toEqual({ code: 5, stderr: 'the router wants an API key: pass --api-key KEY or set ARTORIZER_API_KEY (`make api-key NAME=you` creates one)\n' });
    const wrong = await cli(keyed.url, ['protect', 'art.png', '--artist', 'Jane Doe', '--api-key', 'art_wrong']);
    expect(wrong.code).toBe(5);
    expect(wrong.stderr).toContain('the router refused the API key (this API key is not valid): check --api-key or ARTORIZER_API_KEY');

    const good = await cli(keyed.url, ['protect', 'art.png', '--artist', 'Jane Doe', '--out', 'keyed', '--json'], { ARTORIZER_API_KEY: SECRET });
    expect(good.code).toBe(0);
    const [result] = good.json();
    expect(result).toMatchObject({ status: 'completed', upload: 'resumable', saved: { protected: path.join('keyed', 'art.protected.png') } });
    const status = await cli(keyed.url, ['status', String(result.job_id)]);
    expect(status.code).toBe(5);
    expect(status.stderr).toContain('the router wants an API key');
    const keyedStatus = await cli(keyed.url, ['status', String(result.job_id), '--api-key', SECRET]);
    expect({ code: keyedStatus.code, stdout: keyedStatus.stdout }).toEqual({ code: 0, stdout: `job ${String(result.job_id)}  completed\n` });
  }, 120_000);
});

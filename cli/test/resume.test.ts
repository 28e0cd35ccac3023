import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { CountingProxy, startCountingProxy } from '../../router/test/tus/counting-proxy';
import { within } from '../../router/test/wire';
import { BIN, runCli, tempDir } from './cli-run';
import { Stack, startStack } from './stack';

/**
 * A resumable upload cut short (the CLI killed half-way) goes on from where the router has it
 * when the same command runs again: a counting proxy in front of the router shows that the
 * second run sends only the rest.
 */
describe('artorizer protect resumes an upload an earlier run left unfinished', () => {
  let stack: Stack;
  let proxy: CountingProxy;
  let dir: string;
  let image: Buffer;
  let cut: ChildProcess | undefined;

  beforeAll(async () => {
    stack = await startStack({ store: true, bucket: 'artorizer-cli-resume' });
    proxy = await startCountingProxy(stack.router.port);
    dir = tempDir('resume');
    // incompressible, so that it is a real 12 MB upload
    image = await sharp(randomBytes(2048 * 2048 * 3), { raw: { width: 2048, height: 2048, channels: 3 } })
      .png({ compressionLevel: 0 })
      .toBuffer();
    fs.writeFileSync(path.join(dir, 'large.png'), image);
  }, 120_000);

  afterAll(async () => {
    if (cut && cut.exitCode === null && cut.signalCode === null) cut.kill('SIGKILL');
    await proxy?.close();
    await stack?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('sends only what the router lacks on the second run, and forgets the upload once it is done', async () => {
    const stateDir = path.join(dir, '.state');
    const stateFile = path.join(stateDir, 'tus-uploads.json');
    const remembered = () => (fs.existsSync(stateFile) ? Object.keys(JSON.parse(fs.readFileSync(stateFile, 'utf8')) as object) : []);

    const stalled = proxy.stallAt(Math.floor(image.length / 2));
    cut = spawn(process.execPath, [BIN, 'protect', 'large.png', '--artist', 'Jane Doe', '--json'], {
      cwd: dir,
      env: { ...process.env, ARTORIZER_URL: proxy.url, ARTORIZER_STATE_DIR: stateDir },
      stdio: 'ignore',
    });
    const exited = new Promise((resolve) => cut!.once('exit', resolve));
    await stalled;
    expect(await within(10_000, () => remembered().length === 1)).toBe(true);
    cut.kill('SIGKILL');
    await exited;
    const firstRun = proxy.forwarded;

    // the router keeps what reached it before the cut (asked directly, not through the proxy)
    const [upload] = Object.values(JSON.parse(fs.readFileSync(stateFile, 'utf8')) as Record<string, { uploadUrl: string }>);
    const direct = `${stack.router.url}${new URL(upload.uploadUrl).pathname}`;
    const offset = async () => Number((await fetch(direct, { method: 'HEAD', headers: { 'Tus-Resumable': '1.0.0' } })).headers.get('upload-offset'));
    expect(await within(30_000, async () => (await offset()) >= firstRun - 64 * 1024)).toBe(true);

    const again = await runCli(['protect', 'large.png', '--artist', 'Jane Doe', '--wait', '--json'], { routerUrl: proxy.url, cwd: dir, stateDir, timeoutMs: 110_000 });
    expect({ code: again.code, stderr: again.stderr }).toEqual({ code: 0, stderr: '' });
    expect(again.json()).toEqual([expect.objectContaining({ file: 'large.png', status: 'completed', upload: 'resumable', image: expect.objectContaining({ width: 2048, height: 2048 }) })]);
    const secondRun = proxy.forwarded - firstRun;
    // the rest and the protocol's requests, not the whole file again
    expect(secondRun).toBeLessThan(image.length * 0.6);
    expect(secondRun).toBeGreaterThan(image.length * 0.4);
    expect(remembered()).toEqual([]);
  }, 120_000);
});

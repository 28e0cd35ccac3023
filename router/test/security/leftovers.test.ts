import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LocalProcessor, LocalRouter, startLocalProcessor, startLocalRouter } from '../harness';
import { freePort } from '../ports';
import { FormPart, MiB, REPO_ROOT, filesUnder, multipart, pngLike, sendPartOf, within } from '../wire';

const meta: FormPart[] = [
  { name: 'artist_name', value: 'Jane' },
  { name: 'artwork_title', value: 'Leftovers' },
];

/** The file first (so it is spooled: its metadata comes later), then `extraFields` more fields. */
function fileFirst(fileBytes: number, extraFields: number) {
  const extra = Array.from({ length: extraFields }, (_, i) => ({ name: `f${i}`, value: 'x' }));
  return multipart([{ name: 'image', value: pngLike(fileBytes), filename: 'a.png', type: 'image/png' }, ...meta, ...extra]);
}

describe('the router leaves nothing in its WORK_DIR', () => {
  let processor: LocalProcessor;
  let root: string;
  let router: LocalRouter;

  beforeAll(async () => {
    processor = await startLocalProcessor();
    // not there yet: the router creates it, 0700
    root = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'artorizer-router-work-')), 'work');
    router = await startLocalRouter({ PROCESSOR_ADDR: processor.address, TRANSFER_MODE: 'stream', WORK_DIR: root });
  });

  afterAll(async () => {
    await router.stop(100);
    await processor.stop(0);
    fs.rmSync(path.dirname(root), { recursive: true, force: true });
  });

  it('is private: the folder 0700, a spooled upload 0600', async () => {
    expect(fs.statSync(root).mode & 0o777).toBe(0o700);
    const { body, contentType } = fileFirst(4 * MiB, 0);
    const socket = await sendPartOf(router.port, '/protect', body, contentType, 2 * MiB);
    try {
      expect(await within(5000, () => filesUnder(root).length === 1)).toBe(true);
      const spooled = path.join(root, filesUnder(root)[0]);
      expect(fs.statSync(spooled).mode & 0o777).toBe(0o600);
      expect(fs.statSync(path.dirname(spooled)).mode & 0o777).toBe(0o700);
    } finally {
      socket.destroy();
    }
    expect(await within(5000, () => filesUnder(root).length === 0)).toBe(true);
  });

  it('removes the spool of a file followed by too many fields, every time', async () => {
    const answers = await Promise.all(
      [1, 2.5, 1, 2.5, 1, 2.5, 1, 2.5].map(async (mib) => {
        const { body, contentType } = fileFirst(Math.round(mib * MiB), 200);
        const res = await fetch(`${router.url}/protect`, { method: 'POST', headers: { 'Content-Type': contentType }, body });
        return res.status;
      }),
    );
    expect(answers).toEqual(Array(8).fill(400));
    // the answer can come before the spool task has ended: the folder must empty right after
    expect(await within(5000, () => filesUnder(root).length === 0)).toBe(true);
  });

  it('removes the spool of a client that hangs up, wherever it does', async () => {
    const { body, contentType } = fileFirst(3 * MiB, 3);
    for (const cut of [200, 64 * 1024, MiB, 3 * MiB - 10, body.length - 5]) {
      const socket = await sendPartOf(router.port, '/protect', body, contentType, cut);
      socket.destroy();
      expect({ cut, clean: await within(5000, () => filesUnder(root).length === 0) }).toEqual({ cut, clean: true });
    }
  });

  it("removes a SIGKILLed router's spool at the next start", async () => {
    const killedRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'artorizer-router-killed-'));
    const port = await freePort();
    // node itself runs the router (not the tsx CLI, whose child would be a grandchild): once
    // `exit` has come, the router is dead and reaped, and its folder is a dead process's
    const doomed = spawn(process.execPath, ['--import', 'tsx', 'router/src/main.ts'], {
      cwd: REPO_ROOT,
      env: { ...process.env, HOST: '127.0.0.1', PORT: String(port), PROCESSOR_ADDR: processor.address, TRANSFER_MODE: 'stream', WORK_DIR: killedRoot, LOG_LEVEL: 'warn' },
      stdio: 'ignore',
      detached: true,
    });
    const exited = new Promise((resolve) => doomed.once('exit', resolve));
    let next: LocalRouter | undefined;
    try {
      expect(await within(30_000, async () => (await fetch(`http://127.0.0.1:${port}/health/live`).catch(() => undefined))?.ok === true)).toBe(true);
      const { body, contentType } = fileFirst(4 * MiB, 0);
      const socket = await sendPartOf(port, '/protect', body, contentType, 2 * MiB);
      expect(await within(5000, () => filesUnder(killedRoot).length === 1)).toBe(true);
      process.kill(-doomed.pid!, 'SIGKILL');
      await exited;
      socket.destroy();
      expect(filesUnder(killedRoot)).toHaveLength(1);

      next = await startLocalRouter({ PROCESSOR_ADDR: processor.address, WORK_DIR: killedRoot });
      expect(filesUnder(killedRoot)).toEqual([]);
      // the live router's own folder is kept; only the dead one's went
      expect(fs.readdirSync(killedRoot)).toHaveLength(1);
    } finally {
      if (doomed.exitCode === null && doomed.signalCode === null) process.kill(-doomed.pid!, 'SIGKILL');
      await next?.stop(100);
      fs.rmSync(killedRoot, { recursive: true, force: true });
    }
  }, 60_000);
});

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openWorkDir } from '../src/work-dir';

describe('openWorkDir', () => {
  let parent: string;

  beforeEach(() => {
    parent = fs.mkdtempSync(path.join(os.tmpdir(), 'artorizer-workdir-'));
  });

  afterEach(() => fs.rmSync(parent, { recursive: true, force: true }));

  it('sweeps folders of an earlier boot, keeps those of another pid namespace and of live processes', async () => {
    const root = path.join(parent, 'work');
    const first = await openWorkDir(root);
    const [boot, namespace] = path.basename(first.dir).split('-');
    const earlierBoot = path.join(root, `${boot === '00000000' ? '11111111' : '00000000'}-${namespace}-1-1-aaaaaaaa`);
    const otherNamespace = path.join(root, `${boot}-1-1-1-bbbbbbbb`);
    const deadHere = path.join(root, `${boot}-${namespace}-999999999-1-cccccccc`);
    for (const dir of [earlierBoot, otherNamespace, deadHere]) fs.mkdirSync(dir);
    const second = await openWorkDir(root);
    expect(second.swept).toBe(2);
    expect(fs.readdirSync(root).sort()).toEqual([path.basename(first.dir), path.basename(otherNamespace), path.basename(second.dir)].sort());
    expect(fs.statSync(root).mode & 0o777).toBe(0o700);
    await first.close();
    await second.close();
  });

  it('uses an existing root as it is, and keeps its own folder private', async () => {
    fs.chmodSync(parent, 0o755);
    const opened = await openWorkDir(parent);
    expect(fs.statSync(parent).mode & 0o777).toBe(0o755);
    expect(fs.statSync(opened.dir).mode & 0o777).toBe(0o700);
    await opened.close();
  });
});

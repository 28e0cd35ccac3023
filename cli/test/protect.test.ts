import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { makeJpeg, makePng } from '@artorizer/testkit';
import { CliRun, runCli, tempDir } from './cli-run';
import { Stack, startStack } from './stack';

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

interface Saved {
  protected: string;
  analysis: string;
}

/**
 * `artorizer protect` as a script runs it, against a real router and processor: once with the
 * embedded store (the router offers tus at /files, so the CLI uploads resumably) and once
 * without (multipart POST /protect).
 */
describe.each([
  ['with an object store: resumable (tus) uploads', true, 'resumable'],
  ['without a store: multipart uploads', false, 'multipart'],
] as const)('artorizer protect, router %s', (_name, withStore, upload) => {
  let stack: Stack;
  let dir: string;
  const originals: Record<string, { width: number; height: number; format: string; bytes: Buffer }> = {};
  const cli = (args: string[], cwd = dir): Promise<CliRun> => runCli(args, { routerUrl: stack.router.url, cwd, stateDir: path.join(dir, '.state') });

  beforeAll(async () => {
    stack = await startStack({ store: withStore, bucket: 'artorizer-cli-protect' });
    dir = tempDir('protect');
    const files: [string, Buffer, string][] = [
      ['forest.png', await makePng(640, 480, 1), 'png'],
      ['sea.jpg', await makeJpeg(800, 600, 2), 'jpeg'],
      ['study.png', await makePng(512, 384, 3), 'png'],
      // too small to carry the watermark text: the job completes with no layer applied
      ['tiny.png', await makePng(96, 96, 4), 'png'],
    ];
    for (const [name, bytes, format] of files) {
      fs.writeFileSync(path.join(dir, name), bytes);
      const meta = await sharp(bytes).metadata();
      originals[name] = { width: meta.width!, height: meta.height!, format, bytes };
    }
    // text, named like an image
    fs.writeFileSync(path.join(dir, 'notes.png'), 'these are words, not pixels\n'.repeat(200));
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it("protects three files with --wait --out --json: exit 0, one JSON object per file, the protected images decode at the originals' sizes and the analyses are written", async () => {
    const run = await cli([
      'protect',
      'forest.png',
      'sea.jpg',
      'study.png',
      '--artist',
      'Jane Doe',
      '--tags',
      'forest,moody',
      '--watermark',
      'Jane Doe 2026',
      '--concurrency',
      '2',
      '--wait',
      '--out',
      'out',
      '--json',
    ]);
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
    const results = run.json();
    expect(results.map((r) => r.file).sort()).toEqual(['forest.png', 'sea.jpg', 'study.png']);
    for (const result of results) {
      const file = String(result.file);
      const original = originals[file];
      expect(result).toMatchObject({ status: 'completed', upload, job_id: expect.stringMatching(/^[0-9a-f-]{36}$/), image: { width: original.width, height: original.height } });
      // the fields went through: the processor verified the watermark it embedded
      expect(result.verified).toEqual({ watermark_text: 'Jane Doe 2026' });

      const saved = result.saved as Saved;
      const stem = file.replace(/\.[^.]+$/, '');
      expect(saved).toEqual({ protected: path.join('out', `${stem}.protected.${original.format === 'jpeg' ? 'jpg' : 'png'}`), analysis: path.join('out', `${stem}.analysis.json`) });
      const image = fs.readFileSync(path.join(dir, saved.protected));
      const meta = await sharp(image).metadata();
      expect({ width: meta.width, height: meta.height, format: meta.format }).toEqual({ width: original.width, height: original.height, format: original.format });
      expect(sha256(image)).not.toBe(sha256(original.bytes));

      // the files are the job's artifacts, byte for byte
      const jobResult = (await (await fetch(`${stack.router.url}/jobs/${String(result.job_id)}/result`)).json()) as { artifacts: { variant: string; sha256: string }[] };
      const artifactSha = (variant: string) => jobResult.artifacts.find((a) => a.variant === variant)?.sha256;
      expect(sha256(image)).toBe(artifactSha('protected'));
      const analysisBytes = fs.readFileSync(path.join(dir, saved.analysis));
      expect(sha256(analysisBytes)).toBe(artifactSha('analysis'));
      const analysis = JSON.parse(analysisBytes.toString('utf8')) as { job_id: string; analysis: { image: { width: number; height: number; sha256: string } } };
      expect(analysis.job_id).toBe(result.job_id);
      expect(analysis.analysis.image).toMatchObject({ width: original.width, height: original.height, sha256: sha256(original.bytes) });
    }
    expect(fs.readdirSync(path.join(dir, 'out')).sort()).toEqual([
      'forest.analysis.json',
      'forest.protected.png',
      'sea.analysis.json',
      'sea.protected.jpg',
      'study.analysis.json',
      'study.protected.png',
    ]);
  }, 120_000);

  it('turns on exactly the layers named by --layers', async () => {
    const run = await cli(['protect', 'study.png', '--artist', 'Jane Doe', '--layers', 'mist,stegano-embed', '--watermark-strategy', 'none', '--wait', '--json']);
    expect(run.code).toBe(0);
    const [result] = run.json();
    expect((result.layers as { layer: string }[]).map((l) => l.layer).sort()).toEqual(['mist', 'stegano-embed']);
  }, 120_000);

  it('refuses a text file named .png with exit 3 and says why, and still protects the other file', async () => {
    const run = await cli(['protect', 'notes.png', 'study.png', '--artist', 'Jane Doe', '--wait']);
    expect(run.code).toBe(3);
    expect(run.stderr).toContain('notes.png: not an image the router accepts (JPEG, PNG, GIF, WebP, TIFF, AVIF or HEIF)');
    expect(run.stdout).toMatch(/^study\.png {2}job [0-9a-f-]{36} {2}completed/m);
    expect(run.stdout).not.toContain('notes.png');

    // a refused upload is not remembered for resuming
    const stateFile = path.join(dir, '.state', 'tus-uploads.json');
    expect(fs.existsSync(stateFile) ? JSON.parse(fs.readFileSync(stateFile, 'utf8')) : {}).toEqual({});

    const json = await cli(['protect', 'notes.png', '--artist', 'Jane Doe', '--json']);
    expect(json.code).toBe(3);
    expect(json.json()).toEqual([
      { file: 'notes.png', status: 'error', error: expect.objectContaining({ exit_code: 3, http_status: 415, message: expect.stringContaining('not an image the router accepts') }) },
    ]);
  }, 120_000);

  it('exits 1 for a job that completes without a protected image, saying why, and still saves its analysis', async () => {
    const run = await cli(['protect', 'tiny.png', '--artist', 'Jane Doe', '--out', 'out-tiny', '--json']);
    expect(run.code).toBe(1);
    const [result] = run.json();
    expect(result).toMatchObject({ file: 'tiny.png', status: 'completed', saved: { protected: null, analysis: path.join('out-tiny', 'tiny.analysis.json') } });
    expect(String((result.error as { message: string }).message)).toMatch(/^tiny\.png: job [0-9a-f-]{36} completed without a protected image \(invisible-watermark failed: image too small/);
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'out-tiny', 'tiny.analysis.json'), 'utf8'))).toMatchObject({ job_id: result.job_id });
    expect(fs.readdirSync(path.join(dir, 'out-tiny'))).toEqual(['tiny.analysis.json']);
  }, 120_000);

  it('a field the router refuses: exit 3 naming the option, and no upload left behind in the store', async () => {
    const before = (await stack.store?.keys('uploads/'))?.sort();
    const run = await cli(['protect', 'study.png', '--artist', 'Jane Doe', '--title', '   ']);
    expect({ code: run.code, stdout: run.stdout, stderr: run.stderr }).toEqual({ code: 3, stdout: '', stderr: 'study.png: the router refused --title (artwork_title): artwork_title is required\n' });
    // the finished tus upload was terminated rather than left to expire
    expect((await stack.store?.keys('uploads/'))?.sort()).toEqual(before);
  }, 120_000);
});

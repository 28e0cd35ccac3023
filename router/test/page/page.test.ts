import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ListMultipartUploadsCommand } from '@aws-sdk/client-s3';
import { Browser, BrowserContext, Page, chromium } from 'playwright-core';
import sharp from 'sharp';
import { writePhoto } from '../../../bench/lib/photo';
import { LocalProcessor, LocalRouter, startLocalProcessor, startLocalRouter } from '../harness';
import { freePort } from '../ports';
import { TestStore, startEmbedded } from '../storage/stores';
import { REPO_ROOT, within } from '../wire';

const CHROMIUM = '/usr/bin/chromium';
/** Where the screenshots go (git ignores it); look at them after a change to the page. */
const ARTIFACTS = path.join(REPO_ROOT, 'test-artifacts', 'page');
const FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const DESKTOP = { width: 1280, height: 900 };

/** The little of the page's DOM these tests read, typed here (their TypeScript has no DOM library). */
interface PageWindow {
  document: { querySelector(selector: string): { value: number; textContent: string | null } | null };
  lowestAfterCut: number;
}
const PHONE = { width: 390, height: 844 };

const reason = fs.existsSync(CHROMIUM) ? undefined : `Chromium is not installed at ${CHROMIUM} (scripts/chromium/install.sh installs it; .ci/run does)`;

if (reason && process.env.CI !== 'true') {
  process.stderr.write(`\n[page] not run in a browser: ${reason}\n`);
  describe('the web page in a real browser', () => {
    it('needs Chromium, which is absent on this machine (CI installs it)', () => {
      expect(fs.existsSync(CHROMIUM)).toBe(false);
    });
  });
} else {
  describe('the web page in a real browser (Chromium, playwright-core), on a router with a store: resumable uploads', () => {
    let workDir: string;
    let store: TestStore;
    let processor: LocalProcessor;
    let router: LocalRouter;
    let browser: Browser;
    let photo: { path: string; width: number; height: number };
    let bigPhoto: { path: string; width: number; height: number };

    beforeAll(async () => {
      fs.mkdirSync(ARTIFACTS, { recursive: true });
      workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'artorizer-page-'));
      const port = await freePort();
      // the store answers CORS for the page's origin: downloads redirect to it
      store = await startEmbedded('artorizer-page', [`http://127.0.0.1:${port}`]);
      processor = await startLocalProcessor({ ...store.env, PROCESSOR_CONCURRENCY: '2' });
      router = await startLocalRouter({ ...store.env, PORT: String(port), PROCESSOR_ADDR: processor.address });
      photo = await writePhoto(workDir, 1600, 1067);
      bigPhoto = await writePhoto(workDir, 3000, 2000);
      browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
    }, 120_000);

    afterAll(async () => {
      await browser?.close();
      await router?.stop(100);
      await processor?.stop(100);
      await store?.stop();
      fs.rmSync(workDir, { recursive: true, force: true });
    }, 60_000);

    async function open(viewport: { width: number; height: number }): Promise<{ context: BrowserContext; page: Page }> {
      const context = await browser.newContext({ viewport, acceptDownloads: true });
      const page = await context.newPage();
      await page.goto(router.url);
      await page.getByRole('button', { name: 'Protect' }).waitFor();
      // the form is built from GET /info: its layer checkboxes are there once it has answered
      await page.getByLabel('Fawkes (face cloaking)').waitFor();
      return { context, page };
    }

    const job = (page: Page, name: string) => page.locator('li.job', { has: page.getByRole('heading', { name }) });
    const barValue = (page: Page, name: string, bar: 'upload' | 'process') =>
      job(page, name)
        .locator(`.${bar}-bar`)
        .evaluate((el) => (el as unknown as { value: number }).value);

    it('uploads a photograph, shows both bars reach 100 %, both images, the analysis, and downloads the protected image at full size', async () => {
      const { context, page } = await open(DESKTOP);
      try {
        // the keyboard reaches the file picker first (it is a real, focusable input)
        await page.keyboard.press('Tab');
        expect(await page.evaluate('document.activeElement && document.activeElement.id')).toBe('files');
        await page.getByLabel('Artist name').fill('Jane Doe');
        await page.getByLabel('Tags').fill('forest, moody');
        await page.getByLabel('Watermark text').fill('Jane Doe 2026');
        await page.locator('#files').setInputFiles(photo.path);
        await page.getByRole('button', { name: 'Protect' }).click();
        const name = path.basename(photo.path);
        await job(page, name).locator('.result').waitFor({ state: 'visible', timeout: 90_000 });
        expect(await barValue(page, name, 'upload')).toBe(100);
        expect(await barValue(page, name, 'process')).toBe(100);
        const sizes = await job(page, name)
          .locator('img')
          .evaluateAll((imgs) =>
            imgs.map((el) => {
              const img = el as unknown as { alt: string; naturalWidth: number; naturalHeight: number };
              return { alt: img.alt, width: img.naturalWidth, height: img.naturalHeight };
            }),
          );
        expect(sizes).toEqual([
          { alt: 'Original', width: photo.width, height: photo.height },
          { alt: 'Protected', width: photo.width, height: photo.height },
        ]);
        await expect(job(page, name).locator('.message').textContent()).resolves.toContain('Watermark verified: “Jane Doe 2026”');
        await expect(job(page, name).locator('.analysis').textContent()).resolves.toContain(`${photo.width} × ${photo.height}`);
        expect(await job(page, name).locator('.layers li').count()).toBeGreaterThan(0);
        await page.screenshot({ path: path.join(ARTIFACTS, 'desktop-result.png'), fullPage: true });

        const [download] = await Promise.all([page.waitForEvent('download'), job(page, name).getByRole('button', { name: 'Download protected image' }).click()]);
        const saved = path.join(workDir, download.suggestedFilename());
        await download.saveAs(saved);
        const meta = await sharp(saved).metadata();
        expect({ width: meta.width, height: meta.height }).toEqual({ width: photo.width, height: photo.height });
        // the form keeps what was typed, for the next upload
        expect(await page.getByLabel('Artist name').inputValue()).toBe('Jane Doe');
      } finally {
        await context.close();
      }
    }, 120_000);

    it('says in words when a file is not an image, before and after it is sent', async () => {
      const { context, page } = await open(DESKTOP);
      try {
        await page.getByLabel('Artist name').fill('Jane Doe');
        await page.locator('#files').setInputFiles({ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('not a picture') });
        await expect(page.locator('#chosen li').textContent()).resolves.toMatch(/notes\.txt: not an image the router accepts \(JPEG, PNG/);
        // a text file named .png passes the browser's check: the router's sniff refuses it (415)
        await page.locator('#files').setInputFiles({ name: 'fake.png', mimeType: 'image/png', buffer: Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>'.repeat(50)) });
        await page.getByRole('button', { name: 'Protect' }).click();
        const message = job(page, 'fake.png').locator('.message');
        await page.waitForFunction((el) => /not an image/.test(el?.textContent ?? ''), await message.elementHandle(), { timeout: 30_000 });
        expect(await message.textContent()).toBe('This file is not an image the router accepts (JPEG, PNG, GIF, WebP, TIFF, AVIF or HEIF).');
        await page.screenshot({ path: path.join(ARTIFACTS, 'desktop-not-an-image.png'), fullPage: true });
      } finally {
        await context.close();
      }
    }, 60_000);

    it('resumes an upload after the browser goes offline mid-way, and finishes', async () => {
      const { context, page } = await open(DESKTOP);
      try {
        // a slow uplink, so that the upload is still going when the network goes
        const cdp = await context.newCDPSession(page);
        await cdp.send('Network.enable');
        await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 5, downloadThroughput: -1, uploadThroughput: 4 * 1024 * 1024 });
        await page.getByLabel('Artist name').fill('Jane Doe');
        await page.locator('#files').setInputFiles(bigPhoto.path);
        await page.getByRole('button', { name: 'Protect' }).click();
        const name = path.basename(bigPhoto.path);
        await page.waitForFunction((at) => ((globalThis as unknown as PageWindow).document.querySelector('li.job .upload-bar')?.value ?? 0) >= at, 20, { timeout: 30_000 });
        await context.setOffline(true);
        await page.waitForFunction(() => /connection lost/.test((globalThis as unknown as PageWindow).document.querySelector('li.job .message')?.textContent ?? ''), undefined, { timeout: 30_000 });
        const atCut = await barValue(page, name, 'upload');
        await page.screenshot({ path: path.join(ARTIFACTS, 'desktop-offline.png'), fullPage: true });
        // the lowest the upload bar shows from here on: a restart from zero would show 0
        await page.evaluate(() => {
          const w = globalThis as unknown as PageWindow;
          const bar = w.document.querySelector('li.job .upload-bar')!;
          w.lowestAfterCut = bar.value;
          const timer = setInterval(() => {
            w.lowestAfterCut = Math.min(w.lowestAfterCut, bar.value);
            if (bar.value >= 100) clearInterval(timer);
          }, 10);
        });
        await context.setOffline(false);
        await job(page, name).locator('.result').waitFor({ state: 'visible', timeout: 120_000 });
        expect(atCut).toBeGreaterThanOrEqual(20);
        expect(atCut).toBeLessThan(100);
        expect(await page.evaluate(() => (globalThis as unknown as PageWindow).lowestAfterCut)).toBeGreaterThanOrEqual(atCut / 2);
        expect(await barValue(page, name, 'process')).toBe(100);
      } finally {
        await context.close();
      }
    }, 180_000);

    it('cancels an upload in flight: the card says so and the router keeps nothing of it', async () => {
      const { context, page } = await open(DESKTOP);
      const stored = async () => (await store.keys('uploads/')).sort();
      const multipartUploads = async () => ((await store.client.send(new ListMultipartUploadsCommand({ Bucket: store.bucket, Prefix: 'uploads/' }))).Uploads ?? []).length;
      try {
        const before = await stored();
        const cdp = await context.newCDPSession(page);
        await cdp.send('Network.enable');
        await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 5, downloadThroughput: -1, uploadThroughput: 2 * 1024 * 1024 });
        await page.getByLabel('Artist name').fill('Jane Doe');
        await page.locator('#files').setInputFiles(bigPhoto.path);
        await page.getByRole('button', { name: 'Protect' }).click();
        const name = path.basename(bigPhoto.path);
        await page.waitForFunction((at) => ((globalThis as unknown as PageWindow).document.querySelector('li.job .upload-bar')?.value ?? 0) >= at, 10, { timeout: 30_000 });
        await job(page, name).getByRole('button', { name: 'Cancel' }).click();
        expect(await job(page, name).locator('.message').textContent()).toBe('Cancelled.');
        expect(await within(15_000, async () => JSON.stringify(await stored()) === JSON.stringify(before) && (await multipartUploads()) === 0)).toBe(true);
      } finally {
        await context.close();
      }
    }, 60_000);

    it('is usable at phone size: the form, the bars and the result fit the screen', async () => {
      const { context, page } = await open(PHONE);
      try {
        await page.screenshot({ path: path.join(ARTIFACTS, 'phone-form.png'), fullPage: true });
        await page.getByLabel('Artist name').fill('Jane Doe');
        await page.locator('#files').setInputFiles(photo.path);
        await page.getByRole('button', { name: 'Protect' }).click();
        const name = path.basename(photo.path);
        await job(page, name).locator('.result').waitFor({ state: 'visible', timeout: 90_000 });
        const overflow = await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth');
        expect(overflow).toBeLessThanOrEqual(0);
        await page.screenshot({ path: path.join(ARTIFACTS, 'phone-result.png'), fullPage: true });
      } finally {
        await context.close();
      }
    }, 120_000);
  });

  describe('the web page on a router without a store: the multipart path, with upload progress', () => {
    let dir: string;
    let processor: LocalProcessor;
    let router: LocalRouter;
    let browser: Browser;
    let photo: { path: string; width: number; height: number };

    beforeAll(async () => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'artorizer-page-stream-'));
      processor = await startLocalProcessor();
      router = await startLocalRouter({ PROCESSOR_ADDR: processor.address });
      photo = await writePhoto(dir, 1200, 800);
      browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
    }, 120_000);

    afterAll(async () => {
      await browser?.close();
      await router?.stop(100);
      await processor?.stop(100);
      fs.rmSync(dir, { recursive: true, force: true });
    }, 60_000);

    it('streams the photograph to the processor and shows the protected result', async () => {
      const context = await browser.newContext({ viewport: DESKTOP });
      const page = await context.newPage();
      try {
        const info = (await (await fetch(`${router.url}/info`)).json()) as { uploads: { resumable: string | null } };
        expect(info.uploads.resumable).toBeNull();
        await page.goto(router.url);
        await page.getByLabel('Artist name').fill('Jane Doe');
        await page.locator('#files').setInputFiles(photo.path);
        await page.getByRole('button', { name: 'Protect' }).click();
        const card = page.locator('li.job');
        await card.locator('.result').waitFor({ state: 'visible', timeout: 90_000 });
        expect(await card.locator('.upload-bar').evaluate((el) => (el as unknown as { value: number }).value)).toBe(100);
        expect(await card.locator('img.protected').evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth)).toBe(photo.width);
        await page.screenshot({ path: path.join(ARTIFACTS, 'desktop-stream-result.png'), fullPage: true });
      } finally {
        await context.close();
      }
    }, 120_000);
  });
}

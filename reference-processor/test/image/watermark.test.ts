import { embedWatermark, extractWatermark, watermarkCapacityBytes, watermarkStep } from '../../src/image/watermark';
import { psnr, reencode, scene } from './fixtures';

describe('invisible watermark', () => {
  const base = scene(512, 512, 0);
  const ascii = 'artorizer:v1 owner=alice id=4f2c9e';
  const unicode = 'Œuvre © 2025 — 画像の保護 🎨';

  it('round-trips ASCII and non-ASCII text through PNG', async () => {
    for (const text of [ascii, unicode, '']) {
      const marked = await reencode(embedWatermark(base, text, 0.5), 'png');
      expect(extractWatermark(marked)).toBe(text);
    }
  });

  it('round-trips RGBA input and leaves alpha untouched', async () => {
    const rgba = scene(256, 256, 2, 4);
    for (let i = 3; i < rgba.data.length; i += 4) rgba.data[i] = (i >> 2) & 255;
    const marked = embedWatermark(rgba, 'rgba ok', 0.3);
    let alphaChanged = 0;
    for (let i = 3; i < rgba.data.length; i += 4) if (marked.data[i] !== rgba.data[i]) alphaChanged++;
    expect(alphaChanged).toBe(0);
    expect(extractWatermark(await reencode(marked, 'png'))).toBe('rgba ok');
  });

  it('works at every strength, including the weakest', () => {
    for (const strength of [0, 0.25, 1]) expect(extractWatermark(embedWatermark(base, ascii, strength))).toBe(ascii);
  });

  it('finds nothing in unmarked images', () => {
    expect(extractWatermark(base)).toBeNull();
    expect(extractWatermark(scene(300, 200, 3))).toBeNull();
    const flat = { data: Buffer.alloc(256 * 256 * 3), width: 256, height: 256, channels: 3 };
    expect(extractWatermark(flat)).toBeNull();
    expect(extractWatermark({ ...flat, data: Buffer.alloc(256 * 256 * 3, 255) })).toBeNull();
  });

  it('is invisible by PSNR at strength 0.5', () => {
    const marked = embedWatermark(base, unicode, 0.5);
    const db = psnr(base, marked);
    let maxChange = 0;
    for (let i = 0; i < base.data.length; i++) maxChange = Math.max(maxChange, Math.abs(base.data[i] - marked.data[i]));
    console.log(`watermark PSNR at strength 0.5 (step ${watermarkStep(0.5)}): ${db.toFixed(2)} dB, max channel change ${maxChange}`);
    expect(db).toBeGreaterThan(38);
  });

  it('survives JPEG quality 90 on a 512x512 image', async () => {
    const marked = embedWatermark(base, unicode, 0.5);
    const survived: Record<number, boolean> = {};
    for (const q of [90, 75, 60, 50]) {
      survived[q] = extractWatermark(await reencode(marked, { jpegQuality: q })) === unicode;
    }
    console.log('watermark (strength 0.5) recovered after JPEG quality', survived);
    expect(survived[90]).toBe(true);
  });

  it('handles capacity limits', () => {
    expect(watermarkCapacityBytes(512, 512)).toBe(Math.floor((Math.floor(4096 / 5) - 48) / 8));
    expect(watermarkCapacityBytes(4000, 4000)).toBe(256);
    expect(watermarkCapacityBytes(40, 40)).toBe(0);
    const small = scene(64, 64, 1);
    expect(() => embedWatermark(small, 'hello', 0.5)).toThrow(/^image too small for watermark/);
    const huge = { data: Buffer.alloc(2048 * 2048 * 3), width: 2048, height: 2048, channels: 3 };
    expect(() => embedWatermark(huge, 'x'.repeat(257), 0.5)).toThrow(/maximum is 256/);
    expect(() => embedWatermark(base, 'x', 1.5)).toThrow(RangeError);
    // Exactly at capacity still round-trips.
    const cap = watermarkCapacityBytes(128, 128);
    const text = 'y'.repeat(cap);
    expect(extractWatermark(embedWatermark(scene(128, 128, 2), text, 0.5))).toBe(text);
    expect(() => embedWatermark(scene(128, 128, 2), text + 'y', 0.5)).toThrow(/^image too small for watermark/);
  });
});

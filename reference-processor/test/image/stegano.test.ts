import { embedStegano, extractStegano, steganoCapacityBytes } from '../../src/image/stegano';
import { embedWatermark, extractWatermark } from '../../src/image/watermark';
import { reencode, scene } from './fixtures';

describe('LSB steganography', () => {
  const base = scene(256, 192, 0);

  it('round-trips through PNG and changes only least significant bits', async () => {
    const message = 'meet at dawn — 夜明けに会おう ✓';
    const marked = embedStegano(base, message);
    let highBitsChanged = 0;
    for (let i = 0; i < base.data.length; i++) if (marked.data[i] >> 1 !== base.data[i] >> 1) highBitsChanged++;
    expect(highBitsChanged).toBe(0);
    expect(extractStegano(await reencode(marked, 'png'))).toBe(message);
    expect(extractStegano(embedStegano(base, ''))).toBe('');
  });

  it('skips alpha in RGBA images', async () => {
    const rgba = scene(64, 64, 1, 4);
    const marked = embedStegano(rgba, 'alpha stays');
    let alphaChanged = 0;
    for (let i = 3; i < rgba.data.length; i += 4) if (marked.data[i] !== 255) alphaChanged++;
    expect(alphaChanged).toBe(0);
    expect(extractStegano(await reencode(marked, 'png'))).toBe('alpha stays');
  });

  it('returns null on images without a message', () => {
    expect(extractStegano(base)).toBeNull();
    expect(extractStegano({ data: Buffer.alloc(30 * 30 * 3), width: 30, height: 30, channels: 3 })).toBeNull();
  });

  it('enforces capacity and the 64 KiB limit', () => {
    const tiny = scene(8, 8, 0);
    expect(steganoCapacityBytes(8, 8)).toBe(16);
    expect(extractStegano(embedStegano(tiny, 'x'.repeat(16)))).toBe('x'.repeat(16));
    expect(() => embedStegano(tiny, 'x'.repeat(17))).toThrow(/^image too small for stegano message/);
    expect(() => embedStegano(scene(512, 512, 0), 'x'.repeat(64 * 1024 + 1))).toThrow(/maximum is 65536/);
    expect(extractStegano(embedStegano(scene(512, 512, 0), 'z'.repeat(64 * 1024)))).toBe('z'.repeat(64 * 1024));
  });

  it('recovers both the watermark and a stegano message embedded after it', async () => {
    for (const strength of [0, 0.5]) {
      const watermarked = embedWatermark(scene(512, 512, 2), 'owner: alice', strength);
      const both = await reencode(embedStegano(watermarked, 'secret '.repeat(1000)), 'png');
      expect(extractStegano(both)).toBe('secret '.repeat(1000));
      expect(extractWatermark(both)).toBe('owner: alice');
    }
  });
});

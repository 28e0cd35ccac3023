import sharp from 'sharp';
import { decodeRaw, encodePng } from '../../src/image/decode';

describe('decodeRaw', () => {
  it('expands greyscale to 3 channels and keeps alpha as a 4th', async () => {
    const grey = await sharp(Buffer.alloc(6 * 4, 77), { raw: { width: 6, height: 4, channels: 1 } })
      .png()
      .toBuffer();
    const g = await decodeRaw(grey);
    expect([g.width, g.height, g.channels]).toEqual([6, 4, 3]);
    expect(g.data[0]).toBe(77);

    const greyAlpha = await sharp(Buffer.alloc(6 * 4 * 2, 200), { raw: { width: 6, height: 4, channels: 2 } })
      .png()
      .toBuffer();
    const ga = await decodeRaw(greyAlpha);
    expect(ga.channels).toBe(4);
    expect(ga.data.length).toBe(6 * 4 * 4);
  });

  it('reduces 16-bit input to 8 bits', async () => {
    const png16 = await sharp(Buffer.alloc(5 * 5 * 3, 128), { raw: { width: 5, height: 5, channels: 3 } })
      .toColourspace('rgb16')
      .png()
      .toBuffer();
    expect((await sharp(png16).metadata()).depth).toBe('ushort');
    const raw = await decodeRaw(png16);
    expect(raw.channels).toBe(3);
    expect(raw.data.length).toBe(5 * 5 * 3);
    expect(Math.abs(raw.data[0] - 128)).toBeLessThanOrEqual(1);
  });

  it('applies EXIF orientation', async () => {
    // 20x10 image: left half red, right half blue; orientation 6 = rotate 90° clockwise to display.
    const px = Buffer.alloc(20 * 10 * 3);
    for (let y = 0; y < 10; y++) {
      for (let x = 0; x < 20; x++) px[(y * 20 + x) * 3 + (x < 10 ? 0 : 2)] = 255;
    }
    const jpeg = await sharp(px, { raw: { width: 20, height: 10, channels: 3 } })
      .jpeg({ quality: 95 })
      .withMetadata({ orientation: 6 })
      .toBuffer();
    const raw = await decodeRaw(jpeg);
    expect([raw.width, raw.height]).toEqual([10, 20]);
    // After a clockwise turn the former left (red) half is on top.
    expect(raw.data[0]).toBeGreaterThan(200);
    expect(raw.data[19 * 10 * 3 + 2]).toBeGreaterThan(200);
  });

  it('downscales to maxDim without enlarging', async () => {
    const big = await sharp({ create: { width: 300, height: 120, channels: 3, background: '#336699' } })
      .png()
      .toBuffer();
    const small = await decodeRaw(big, 100);
    expect([small.width, small.height]).toEqual([100, 40]);
    const same = await decodeRaw(big, 1000);
    expect([same.width, same.height]).toEqual([300, 120]);
  });

  it('round-trips through encodePng losslessly', async () => {
    const data = Buffer.alloc(7 * 3 * 4);
    for (let i = 0; i < data.length; i++) data[i] = (i * 37) & 255;
    const png = await encodePng({ data, width: 7, height: 3, channels: 4 });
    const back = await decodeRaw(png);
    expect(back.channels).toBe(4);
    expect(back.data.equals(data)).toBe(true);
  });

  it('rejects inconsistent buffers', async () => {
    await expect(encodePng({ data: Buffer.alloc(10), width: 2, height: 2, channels: 3 })).rejects.toThrow(/expected 12/);
  });
});

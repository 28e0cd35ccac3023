import { createHash } from 'node:crypto';
import sharp from 'sharp';

/** A deterministic test picture: gradients and shapes, so hashes and marks have texture. */
export async function makePng(width = 320, height = 240, seed = 1): Promise<Buffer> {
  const data = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      const inCircle = (x - width / 2) ** 2 + (y - height / 2) ** 2 < (Math.min(width, height) / 3) ** 2;
      data[i] = (x * 255 * seed) / width;
      data[i + 1] = (y * 255) / height;
      data[i + 2] = inCircle ? 200 : (x + y + seed * 37) % 256;
    }
  }
  return sharp(data, { raw: { width, height, channels: 3 } }).png().toBuffer();
}

export function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** A photograph-like JPEG (the test picture with grain, so it compresses like a photo). */
export async function makeJpeg(width: number, height: number, seed = 1): Promise<Buffer> {
  return sharp(await makePng(width, height, seed))
    .composite([{ input: { create: { width, height, channels: 3, background: '#000', noise: { type: 'gaussian', mean: 0, sigma: 12 } } }, blend: 'add' }])
    .jpeg({ quality: 92 })
    .toBuffer();
}

import sharp from 'sharp';
import { decodeRaw, RawImage } from '../../src/image/decode';
import { mulberry32 } from '../../src/image/prng';

/**
 * A photo-like test scene: smooth colour gradient, a few filled discs and
 * rectangles, a sine texture and mild noise. `variant` changes the layout.
 */
export function scene(width: number, height: number, variant = 0, channels: 3 | 4 = 3): RawImage {
  const rnd = mulberry32(1234 + variant * 977);
  const discs = Array.from({ length: 4 }, () => ({
    x: rnd() * width,
    y: rnd() * height,
    r: (0.08 + rnd() * 0.15) * Math.min(width, height),
    c: [rnd() * 255, rnd() * 255, rnd() * 255],
  }));
  const rects = Array.from({ length: 3 }, () => ({
    x0: rnd() * width * 0.8,
    y0: rnd() * height * 0.8,
    w: (0.1 + rnd() * 0.3) * width,
    h: (0.1 + rnd() * 0.3) * height,
    c: [rnd() * 255, rnd() * 255, rnd() * 255],
  }));
  const flip = variant % 2 === 1;
  const data = Buffer.alloc(width * height * channels);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const gx = flip ? 1 - x / width : x / width;
      let c = [40 + 180 * gx, 30 + 160 * (y / height), 200 - 150 * gx * (y / height)];
      for (const r of rects) if (x >= r.x0 && x < r.x0 + r.w && y >= r.y0 && y < r.y0 + r.h) c = r.c;
      for (const d of discs) if ((x - d.x) ** 2 + (y - d.y) ** 2 < d.r * d.r) c = d.c;
      const texture = 12 * Math.sin(x / 5) * Math.cos(y / 7) + (rnd() - 0.5) * 10;
      const p = (y * width + x) * channels;
      for (let k = 0; k < 3; k++) data[p + k] = Math.max(0, Math.min(255, Math.round(c[k] + texture)));
      if (channels === 4) data[p + 3] = 255;
    }
  }
  return { data, width, height, channels };
}

/** Peak signal-to-noise ratio in dB over the colour channels (alpha ignored). */
export function psnr(a: RawImage, b: RawImage): number {
  let se = 0;
  let n = 0;
  for (let p = 0; p < a.data.length; p += a.channels) {
    for (let k = 0; k < 3; k++) {
      const d = a.data[p + k] - b.data[p + k];
      se += d * d;
      n++;
    }
  }
  return se === 0 ? Infinity : 10 * Math.log10((255 * 255) / (se / n));
}

/** Encodes as PNG or JPEG with sharp and decodes back to raw pixels. */
export async function reencode(raw: RawImage, format: 'png' | { jpegQuality: number }): Promise<RawImage> {
  const img = sharp(raw.data, { raw: { width: raw.width, height: raw.height, channels: raw.channels as 3 | 4 } });
  const buf = format === 'png' ? await img.png().toBuffer() : await img.jpeg({ quality: format.jpegQuality }).toBuffer();
  return decodeRaw(buf);
}

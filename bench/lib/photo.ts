import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';

/** The JPEG settings of the generated photograph (a camera's "fine" setting, no chroma subsampling). */
export const PHOTO_JPEG = { quality: 95, chromaSubsampling: '4:4:4' } as const;

export interface PhotoFile {
  path: string;
  width: number;
  height: number;
  /** Size of the JPEG file in bytes. */
  bytes: number;
  /** Wall time to generate and encode it, ms. */
  generateMs: number;
  /** How it was made, for the record. */
  recipe: string;
}

/** Amplitude of the per-sample noise: ± this many levels of 255. */
const GRAIN = 24;
/** Size of the smooth colour field before it is scaled up. */
const FIELD = { width: 64, height: 48, mean: 128, sigma: 60 };

/** Numerical Recipes' 32-bit LCG: deterministic, so every run encodes the same file. */
class Lcg {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    this.state = (Math.imul(this.state, 1664525) + 1013904223) >>> 0;
    return this.state;
  }
  /** Uniform in (0, 1). */
  unit(): number {
    return (this.next() + 0.5) / 4294967296;
  }
}

const clamp = (v: number): number => (v < 0 ? 0 : v > 255 ? 255 : v);

/**
 * A photograph-like JPEG of `width` x `height`: a small field of Gaussian colour noise
 * (mean 128, sigma 60) scaled up with the cubic kernel gives smooth colour areas and
 * gradients, and per-sample noise of ±24 levels gives the fine detail (sensor grain, texture)
 * that makes a real photograph's JPEG large. Quality 95 with 4:4:4 chroma: at 8000x6000
 * (48 Mpx, a current full-frame camera) about 50 MiB. Deterministic (an LCG, fixed seeds).
 */
export async function writePhoto(dir: string, width: number, height: number): Promise<PhotoFile> {
  const started = performance.now();
  const rng = new Lcg(0x5eed);
  const field = Buffer.alloc(FIELD.width * FIELD.height * 3);
  for (let i = 0; i < field.length; i++) {
    // Box-Muller: a standard normal from two uniforms
    const z = Math.sqrt(-2 * Math.log(rng.unit())) * Math.cos(2 * Math.PI * rng.unit());
    field[i] = clamp(Math.round(FIELD.mean + FIELD.sigma * z));
  }
  const pixels = await sharp(field, { raw: { width: FIELD.width, height: FIELD.height, channels: 3 } })
    .resize(width, height, { kernel: 'cubic', fit: 'fill' })
    .raw()
    .toBuffer();
  if (pixels.length !== width * height * 3) throw new Error(`photo: ${pixels.length} bytes of pixels, expected ${width * height * 3}`);
  const grain = new Lcg(12345);
  const span = 2 * GRAIN + 1;
  for (let i = 0; i < pixels.length; i++) pixels[i] = clamp(pixels[i] + ((grain.next() >>> 16) % span) - GRAIN);
  const file = path.join(dir, `bench-photo-${width}x${height}.jpg`);
  await sharp(pixels, { raw: { width, height, channels: 3 } })
    .jpeg(PHOTO_JPEG)
    .toFile(file);
  const meta = await sharp(file).metadata();
  if (meta.format !== 'jpeg' || meta.width !== width || meta.height !== height) {
    throw new Error(`photo: wrote ${meta.format} ${meta.width}x${meta.height}, expected jpeg ${width}x${height}`);
  }
  return {
    path: file,
    width,
    height,
    bytes: fs.statSync(file).size,
    generateMs: performance.now() - started,
    recipe:
      `${FIELD.width}x${FIELD.height} Gaussian colour noise (mean ${FIELD.mean}, sigma ${FIELD.sigma}) scaled to ${width}x${height} with the cubic kernel, ` +
      `plus ±${GRAIN} levels of per-sample noise (LCG), JPEG quality ${PHOTO_JPEG.quality}, ${PHOTO_JPEG.chromaSubsampling}`,
  };
}

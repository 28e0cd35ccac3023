import { mkdtemp, rm, writeFile } from 'fs/promises';
import { tmpdir } from 'os';
import { join } from 'path';
import sharp from 'sharp';
import { averageHash, blockhash, computeHashes, differenceHash, hammingDistance, ImageHashes, perceptualHash } from '../../src/image/hashes';
import { encodePng, RawImage } from '../../src/image/decode';
import { scene } from './fixtures';

const ALL = { average: true, difference: true, perceptual: true, block: true };

function rawSharp(raw: RawImage): sharp.Sharp {
  return sharp(raw.data, { raw: { width: raw.width, height: raw.height, channels: raw.channels as 3 | 4 } });
}

/** Left half black, right half white. */
function halves(width: number, height: number, edge = width / 2): Promise<Buffer> {
  const data = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) data.fill(255, (y * width + edge) * 3, (y + 1) * width * 3);
  return encodePng({ data, width, height, channels: 3 });
}

function distances(a: ImageHashes, b: ImageHashes): Record<string, number> {
  return {
    average: hammingDistance(a.averageHash!, b.averageHash!),
    difference: hammingDistance(a.differenceHash!, b.differenceHash!),
    perceptual: hammingDistance(a.perceptualHash!, b.perceptualHash!),
    block: hammingDistance(a.blockhash!, b.blockhash!),
  };
}

describe('perceptual hashes', () => {
  const base = scene(512, 384, 0);
  let png: Buffer;
  let hashes: ImageHashes;

  beforeAll(async () => {
    png = await encodePng(base);
    hashes = await computeHashes(png, ALL);
  });

  it('returns lowercase hex of the documented lengths', () => {
    expect(hashes.averageHash).toMatch(/^[0-9a-f]{16}$/);
    expect(hashes.differenceHash).toMatch(/^[0-9a-f]{16}$/);
    expect(hashes.perceptualHash).toMatch(/^[0-9a-f]{16}$/);
    expect(hashes.blockhash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('single-hash helpers agree with computeHashes, and only requested hashes are computed', async () => {
    expect(await averageHash(png)).toBe(hashes.averageHash);
    expect(await differenceHash(png)).toBe(hashes.differenceHash);
    expect(await perceptualHash(png)).toBe(hashes.perceptualHash);
    expect(await blockhash(png)).toBe(hashes.blockhash);
    expect(await computeHashes(png, { difference: true })).toEqual({ differenceHash: hashes.differenceHash });
  });

  it('gives identical hashes for identical pixels, from a buffer or a file path', async () => {
    const again = await computeHashes(await encodePng({ ...base, data: Buffer.from(base.data) }), ALL);
    expect(again).toEqual(hashes);
    const dir = await mkdtemp(join(tmpdir(), 'hashes-'));
    try {
      const file = join(dir, 'scene.png');
      await writeFile(file, png);
      expect(await computeHashes(file, ALL)).toEqual(hashes);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('stays close after a 50% resize and after JPEG q80 re-encoding', async () => {
    const half = await rawSharp(base).resize(256, 192).png().toBuffer();
    const jpeg = await rawSharp(base).jpeg({ quality: 80 }).toBuffer();
    for (const variant of [half, jpeg]) {
      const d = distances(hashes, await computeHashes(variant, ALL));
      console.log('near-duplicate hamming distances', d);
      expect(d.average).toBeLessThanOrEqual(10);
      expect(d.difference).toBeLessThanOrEqual(10);
      expect(d.perceptual).toBeLessThanOrEqual(10);
      expect(d.block).toBeLessThanOrEqual(32);
    }
  });

  it('is far apart for a different image', async () => {
    const other = await computeHashes(await encodePng(scene(512, 384, 1)), ALL);
    const d = distances(hashes, other);
    console.log('different-image hamming distances', d);
    expect(d.average).toBeGreaterThan(16);
    expect(d.difference).toBeGreaterThan(16);
    expect(d.perceptual).toBeGreaterThan(16);
    expect(d.block).toBeGreaterThan(64);
  });

  it('hashes a left-black / right-white image to hand-derived values', async () => {
    const h = await computeHashes(await halves(64, 64), ALL);
    // aHash: every 8x8 row is 4 dark then 4 bright pixels around a mean of ~127.5 -> 00001111.
    expect(h.averageHash).toBe('0f0f0f0f0f0f0f0f');
    // pHash: all rows are equal, so only the first DCT row (u = 0) is non-zero. Its v-th term is
    // proportional to -sin(pi*v/2) for odd v (even v vanish by antisymmetry): v=1,5 negative,
    // v=3,7 positive, plus the positive DC. The median of 64 mostly-zero values is 0 -> 10010001.
    expect(h.perceptualHash).toBe('9100000000000000');
    // blockhash: each band's 16x4 blocks are half 0 and half 765*16, median halfway -> 0x00ff per row.
    expect(h.blockhash).toBe('00ff'.repeat(16));
    // 100 px wide is not a multiple of 16: the fractional-block path must give the same split.
    expect(await blockhash(await halves(100, 80))).toBe('00ff'.repeat(16));
  });

  it('hashes a 9x8 step image (no resampling) to the hand-derived difference hash', async () => {
    // Columns 0-3 black, 4-8 white: the only rising pair per row is (3,4) -> 00010000.
    expect(await differenceHash(await halves(9, 8, 4))).toBe('1010101010101010');
    // On larger images the Lanczos kernel rings next to the edge (rows like 0,0,4,0,127,255,251,255,255),
    // which Pillow's imagehash shows too; the hash is the ringing pattern 01011010.
    expect(await differenceHash(await halves(64, 64))).toBe('5a5a5a5a5a5a5a5a');
  });

  it('treats transparent pixels as white in blockhash', async () => {
    const data = Buffer.alloc(32 * 32 * 4);
    for (let i = 0; i < 32 * 32; i++) if (i % 32 >= 16) data[i * 4 + 3] = 0; // right half transparent black
    for (let i = 0; i < 32 * 32; i++) if (i % 32 < 16) data[i * 4 + 3] = 255; // left half opaque black
    const png = await encodePng({ data, width: 32, height: 32, channels: 4 });
    expect(await blockhash(png)).toBe('00ff'.repeat(16));
  });

  it('computes hamming distances and rejects mismatched input', () => {
    expect(hammingDistance('00', 'ff')).toBe(8);
    expect(hammingDistance('a5', 'a4')).toBe(1);
    expect(hammingDistance('ABCD', 'abcd')).toBe(0);
    expect(() => hammingDistance('00', '000')).toThrow(/lengths differ/);
    expect(() => hammingDistance('zz', '00')).toThrow(/hex/);
  });
});

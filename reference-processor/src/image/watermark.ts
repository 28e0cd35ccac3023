import { assertRgbImage, RawImage } from './decode';
import { fnv1a, mulberry32, permutation } from './prng';
import { embedBitInBlock } from './qimBlock';
import { decodeFrame, encodeFrame, FRAME_OVERHEAD_BITS, frameBits, frameLength, MAX_WATERMARK_BYTES } from './watermarkFrame';

export type { RawImage } from './decode';

/*
 * Blind watermark by quantisation index modulation (QIM) of the mean luma of
 * each 8x8 block (the block DCT's DC term, so it lines up with JPEG's grid).
 * Every frame bit is repeated over blocks picked by a keyed permutation and
 * recovered by a soft majority vote; a CRC-32 rejects unmarked images.
 */

const BLOCK = 8;
const PIXELS = BLOCK * BLOCK;
const MIN_REPETITIONS = 5;
const KEY = 'artorizer-watermark-v1';
const MIN_STEP = 3;
const MAX_STEP = 13;

/** Quantisation step in grey levels for a strength in [0, 1]; integral so the decoder can try them all. */
export function watermarkStep(strength: number): number {
  if (!Number.isFinite(strength) || strength < 0 || strength > 1) {
    throw new RangeError(`watermark strength must be in [0, 1], got ${strength}`);
  }
  return MIN_STEP + Math.round(strength * (MAX_STEP - MIN_STEP));
}

function blockCount(width: number, height: number): number {
  return Math.floor(width / BLOCK) * Math.floor(height / BLOCK);
}

/** Largest UTF-8 text (bytes) that fits with at least 5 repetitions per bit; 0 when even an empty text does not fit. */
export function watermarkCapacityBytes(width: number, height: number): number {
  const bits = Math.floor(blockCount(width, height) / MIN_REPETITIONS) - FRAME_OVERHEAD_BITS;
  return Math.max(0, Math.min(MAX_WATERMARK_BYTES, Math.floor(bits / 8)));
}

/** Block visiting order and per-block dither; depend only on the key and the block count. */
function layout(blocks: number): { order: Uint32Array; dither: Float64Array } {
  const order = permutation(blocks, mulberry32(fnv1a(`${KEY}:order`)));
  const random = mulberry32(fnv1a(`${KEY}:dither`));
  return { order, dither: Float64Array.from({ length: blocks }, () => random()) };
}

/** Pixel positions (y*8+x) of a block in 8x8 Bayer order, so leftover +1 steps are spread out. */
const DISPERSED = Int32Array.from({ length: PIXELS }, (_, i) => i).sort((a, b) => bayer(a) - bayer(b));
function bayer(i: number): number {
  const x = i & 7;
  const y = i >> 3;
  let v = 0;
  for (let bit = 0; bit < 3; bit++) v = (v << 2) | ((((x ^ y) >> bit) & 1) << 1) | ((y >> bit) & 1);
  return v;
}

/** Byte offsets of a block's pixels, in DISPERSED order. */
function pixelOffsets(raw: RawImage, block: number, out: Int32Array): Int32Array {
  const cols = Math.floor(raw.width / BLOCK);
  const x0 = (block % cols) * BLOCK;
  const y0 = Math.floor(block / cols) * BLOCK;
  for (let k = 0; k < PIXELS; k++) {
    const i = DISPERSED[k];
    out[k] = ((y0 + (i >> 3)) * raw.width + x0 + (i & 7)) * raw.channels;
  }
  return out;
}

/** Mean luma of every full 8x8 block, in raster block order. */
function blockMeans(raw: RawImage): Float64Array {
  const cols = Math.floor(raw.width / BLOCK);
  const rows = Math.floor(raw.height / BLOCK);
  const sums = new Float64Array(cols * rows);
  const d = raw.data;
  for (let y = 0; y < rows * BLOCK; y++) {
    const rowBase = Math.floor(y / BLOCK) * cols;
    for (let x = 0; x < cols * BLOCK; x++) {
      const p = (y * raw.width + x) * raw.channels;
      sums[rowBase + (x >> 3)] += 0.299 * d[p] + 0.587 * d[p + 1] + 0.114 * d[p + 2];
    }
  }
  for (let b = 0; b < sums.length; b++) sums[b] /= PIXELS;
  return sums;
}

/** Returns a watermarked copy of `raw` carrying `text`; strength in [0, 1] trades visibility for robustness. */
export function embedWatermark(raw: RawImage, text: string, strength: number): RawImage {
  const copy = { ...raw, data: Buffer.from(raw.data) };
  embedWatermarkInPlace(copy, text, strength);
  return copy;
}

/** Watermarks `raw` itself (no copy of a full-resolution image); see embedWatermark. */
export function embedWatermarkInPlace(raw: RawImage, text: string, strength: number): void {
  assertRgbImage(raw);
  const step = watermarkStep(strength);
  const bits = encodeFrame(Buffer.from(text, 'utf8'));
  const blocks = blockCount(raw.width, raw.height);
  if (blocks < bits.length * MIN_REPETITIONS) {
    throw new Error(
      `image too small for watermark: ${raw.width}x${raw.height} carries ${watermarkCapacityBytes(raw.width, raw.height)} ` + `bytes, text is ${(bits.length - FRAME_OVERHEAD_BITS) / 8} bytes`,
    );
  }
  const data = raw.data;
  const { order, dither } = layout(blocks);
  const offsets = new Int32Array(PIXELS);
  const rgb = new Uint8ClampedArray(PIXELS * 3);
  for (let p = 0; p < blocks; p++) {
    const block = order[p];
    pixelOffsets(raw, block, offsets);
    for (let k = 0; k < PIXELS; k++) for (let c = 0; c < 3; c++) rgb[k * 3 + c] = data[offsets[k] + c];
    embedBitInBlock(rgb, bits[p % bits.length], dither[block] * step, step);
    for (let k = 0; k < PIXELS; k++) for (let c = 0; c < 3; c++) data[offsets[k] + c] = rgb[k * 3 + c];
  }
}

/** Soft majority vote for the first `count` bits of a `length`-bit frame repeated over `soft`. */
function decideBits(soft: Float64Array, length: number, count: number): Uint8Array {
  const bits = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    let sum = 0;
    for (let p = i; p < soft.length; p += length) sum += soft[p];
    bits[i] = sum < 0 ? 1 : 0;
  }
  return bits;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The watermark text, or null when no frame with a valid length and CRC is found. */
export function extractWatermark(raw: RawImage): string | null {
  assertRgbImage(raw);
  const blocks = blockCount(raw.width, raw.height);
  const maxBytes = watermarkCapacityBytes(raw.width, raw.height);
  if (blocks < frameBits(0) * MIN_REPETITIONS) return null;
  const { order, dither } = layout(blocks);
  const means = blockMeans(raw);
  for (let step = MIN_STEP; step <= MAX_STEP; step++) {
    // +1 on a bit-0 lattice point, -1 on a bit-1 point, in frame position order.
    const soft = new Float64Array(blocks);
    for (let p = 0; p < blocks; p++) {
      const b = order[p];
      soft[p] = Math.cos((2 * Math.PI * (means[b] - dither[b] * step)) / step);
    }
    for (let n = 0; n <= maxBytes; n++) {
      const length = frameBits(n);
      if (frameLength(decideBits(soft, length, 16)) !== n) continue;
      const bytes = decodeFrame(decideBits(soft, length, length));
      if (bytes === null) continue;
      try {
        return utf8.decode(bytes);
      } catch {
        continue;
      }
    }
  }
  return null;
}

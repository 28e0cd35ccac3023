import { RawImage, assertRgbImage } from './decode';

/** Default blockhash.io size: 16x16 blocks = 256 bits. */
export const BLOCKHASH_BITS = 16;

function median(values: Float64Array): number {
  const s = Float64Array.from(values).sort();
  const mid = s.length >> 1;
  return s.length % 2 === 0 ? (s[mid - 1] + s[mid]) / 2 : s[mid];
}

/** Sum of R+G+B, with fully transparent pixels counted as white, as blockhash does. */
function pixelValue(raw: RawImage, i: number): number {
  const p = i * raw.channels;
  const d = raw.data;
  if (raw.channels === 4 && d[p + 3] === 0) return 765;
  return d[p] + d[p + 1] + d[p + 2];
}

/** Coverage of pixel `i` (0-based) over blocks of fractional `size`: [first, second, weight of second]. */
function split(i: number, size: number, last: boolean, even: boolean): [number, number, number] {
  if (even) {
    const b = Math.floor(i / size);
    return [b, b, 0];
  }
  const mod = (i + 1) % size;
  const frac = mod - Math.floor(mod);
  const int = mod - frac;
  // int is 0 on block boundaries and on the bottom/right border.
  if (int > 0 || last) {
    const b = Math.floor(i / size);
    return [b, b, frac];
  }
  return [Math.floor(i / size), Math.ceil(i / size), frac];
}

function blocksToHex(blocks: Float64Array, pixelsPerBlock: number): string {
  const halfBlockValue = (pixelsPerBlock * 256 * 3) / 2;
  const band = blocks.length / 4;
  let hex = '';
  let nibble = 0;
  for (let i = 0; i < 4; i++) {
    const m = median(blocks.subarray(i * band, (i + 1) * band));
    for (let j = i * band; j < (i + 1) * band; j++) {
      const v = blocks[j];
      // Near-median blocks of a mostly black/white band resolve to the band's side.
      const bit = v > m || (Math.abs(v - m) < 1 && m > halfBlockValue) ? 1 : 0;
      nibble = (nibble << 1) | bit;
      if (j % 4 === 3) {
        hex += nibble.toString(16);
        nibble = 0;
      }
    }
  }
  return hex;
}

/**
 * blockhash.io "bmvbhash" (blockhash-core) over RGB(A) pixels: pixels are
 * distributed over bits x bits blocks (fractionally when sizes do not divide),
 * then each quarter of the rows is thresholded at its own median.
 */
export function blockhashRaw(raw: RawImage, bits: number = BLOCKHASH_BITS): string {
  assertRgbImage(raw);
  if (!Number.isInteger(bits) || bits < 4 || bits % 4 !== 0) throw new Error(`invalid blockhash size ${bits}`);
  const { width, height } = raw;
  const evenX = width % bits === 0;
  const evenY = height % bits === 0;
  const blocks = new Float64Array(bits * bits);

  if (evenX && evenY) {
    const bw = width / bits;
    const bh = height / bits;
    for (let y = 0; y < height; y++) {
      const row = Math.floor(y / bh) * bits;
      for (let x = 0; x < width; x++) blocks[row + Math.floor(x / bw)] += pixelValue(raw, y * width + x);
    }
    return blocksToHex(blocks, bw * bh);
  }

  const bw = width / bits;
  const bh = height / bits;
  const cols = Array.from({ length: width }, (_, x) => split(x, bw, x + 1 === width, evenX));
  for (let y = 0; y < height; y++) {
    const [top, bottom, wBottom] = split(y, bh, y + 1 === height, evenY);
    const wTop = 1 - wBottom;
    for (let x = 0; x < width; x++) {
      const [left, right, wRight] = cols[x];
      const wLeft = 1 - wRight;
      const v = pixelValue(raw, y * width + x);
      blocks[top * bits + left] += v * wTop * wLeft;
      blocks[top * bits + right] += v * wTop * wRight;
      blocks[bottom * bits + left] += v * wBottom * wLeft;
      blocks[bottom * bits + right] += v * wBottom * wRight;
    }
  }
  return blocksToHex(blocks, bw * bh);
}

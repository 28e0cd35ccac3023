import sharp from 'sharp';
import { decodeRaw, RawImage } from './decode';
import { blockhashRaw } from './blockhash';

/** An image file, its encoded bytes, or pixels already decoded by decodeRaw. */
export type HashInput = string | Buffer | RawImage;

export interface HashSelection {
  average?: boolean;
  difference?: boolean;
  perceptual?: boolean;
  block?: boolean;
}

export interface ImageHashes {
  averageHash?: string;
  differenceHash?: string;
  perceptualHash?: string;
  blockhash?: string;
}

/** Row-major bits, most significant bit first, as lowercase hex (imagehash's string form). */
export function bitsToHex(bits: ArrayLike<boolean | number>): string {
  let hex = '';
  for (let i = 0; i < bits.length; i += 4) {
    let nibble = 0;
    for (let j = i; j < i + 4; j++) nibble = (nibble << 1) | (j < bits.length && bits[j] ? 1 : 0);
    hex += nibble.toString(16);
  }
  return hex;
}

/** ITU-R 601-2 luma with PIL's integer rounding, so results follow imagehash's convert("L"). */
function toGrey(raw: RawImage): Buffer {
  const n = raw.width * raw.height;
  const grey = Buffer.alloc(n);
  const d = raw.data;
  for (let i = 0, p = 0; i < n; i++, p += raw.channels) {
    grey[i] = (d[p] * 19595 + d[p + 1] * 38470 + d[p + 2] * 7471 + 0x8000) >> 16;
  }
  return grey;
}

async function resizeGrey(grey: Buffer, raw: RawImage, w: number, h: number): Promise<Buffer> {
  const { data, info } = await sharp(grey, { raw: { width: raw.width, height: raw.height, channels: 1 } })
    .resize(w, h, { fit: 'fill', kernel: 'lanczos3' })
    .toColourspace('b-w')
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (info.channels !== 1 || data.length !== w * h) throw new Error('unexpected resize output');
  return data;
}

function median(values: ArrayLike<number>): number {
  const s = Float64Array.from(values).sort();
  const mid = s.length >> 1;
  return s.length % 2 === 0 ? (s[mid - 1] + s[mid]) / 2 : s[mid];
}

function averageFromSmall(px: Buffer): string {
  const mean = px.reduce((a, v) => a + v, 0) / px.length;
  return bitsToHex(Array.from(px, (v) => v > mean));
}

function differenceFromSmall(px: Buffer): string {
  const bits: boolean[] = [];
  for (let y = 0; y < 8; y++) {
    for (let x = 0; x < 8; x++) bits.push(px[y * 9 + x] < px[y * 9 + x + 1]);
  }
  return bitsToHex(bits);
}

const DCT_N = 32;
const DCT_K = 8;
// cos table for the unnormalised DCT-II; scale factors cannot change the comparisons.
const COS = Float64Array.from({ length: DCT_K * DCT_N }, (_, i) => {
  const k = Math.floor(i / DCT_N);
  const n = i % DCT_N;
  return Math.cos((Math.PI * k * (2 * n + 1)) / (2 * DCT_N));
});

function perceptualFromSmall(px: Buffer): string {
  // Columns first (scipy dct axis=0), keeping only the 8 lowest frequencies.
  const tmp = new Float64Array(DCT_K * DCT_N);
  for (let u = 0; u < DCT_K; u++) {
    for (let x = 0; x < DCT_N; x++) {
      let s = 0;
      for (let y = 0; y < DCT_N; y++) s += COS[u * DCT_N + y] * px[y * DCT_N + x];
      tmp[u * DCT_N + x] = s;
    }
  }
  const low = new Float64Array(DCT_K * DCT_K);
  for (let u = 0; u < DCT_K; u++) {
    for (let v = 0; v < DCT_K; v++) {
      let s = 0;
      for (let x = 0; x < DCT_N; x++) s += COS[v * DCT_N + x] * tmp[u * DCT_N + x];
      // Snap float noise to 0 so coefficients that vanish in theory (flat rows, symmetric images) compare as equal.
      low[u * DCT_K + v] = Math.round(s * 1e6) / 1e6;
    }
  }
  const med = median(low);
  return bitsToHex(Array.from(low, (c) => c > med));
}

/** Computes the selected hashes from one decode of the image (none when given its pixels). */
export async function computeHashes(input: HashInput, which: HashSelection): Promise<ImageHashes> {
  const raw = typeof input === 'string' || Buffer.isBuffer(input) ? await decodeRaw(input) : input;
  const out: ImageHashes = {};
  const needsGrey = which.average || which.difference || which.perceptual;
  const grey = needsGrey ? toGrey(raw) : Buffer.alloc(0);
  if (which.average) out.averageHash = averageFromSmall(await resizeGrey(grey, raw, 8, 8));
  if (which.difference) out.differenceHash = differenceFromSmall(await resizeGrey(grey, raw, 9, 8));
  if (which.perceptual) out.perceptualHash = perceptualFromSmall(await resizeGrey(grey, raw, DCT_N, DCT_N));
  if (which.block) out.blockhash = blockhashRaw(raw);
  return out;
}

function required(value: string | undefined): string {
  if (value === undefined) throw new Error('hash was not computed');
  return value;
}

/** 64-bit average hash (aHash): 8x8 grey, bit = pixel > mean. */
export async function averageHash(input: HashInput): Promise<string> {
  return required((await computeHashes(input, { average: true })).averageHash);
}

/** 64-bit difference hash (dHash): 9x8 grey, bit = left < right. */
export async function differenceHash(input: HashInput): Promise<string> {
  return required((await computeHashes(input, { difference: true })).differenceHash);
}

/** 64-bit DCT hash (pHash) as in imagehash: 32x32 grey, 8x8 low frequencies vs. their median. */
export async function perceptualHash(input: HashInput): Promise<string> {
  return required((await computeHashes(input, { perceptual: true })).perceptualHash);
}

/** 256-bit blockhash.io hash (bmvbhash, 16 bits per row). */
export async function blockhash(input: HashInput): Promise<string> {
  return required((await computeHashes(input, { block: true })).blockhash);
}

/** Number of differing bits between two equal-length hex hashes. */
export function hammingDistance(hexA: string, hexB: string): number {
  if (hexA.length !== hexB.length) throw new Error(`hash lengths differ: ${hexA.length} vs ${hexB.length}`);
  if (!/^[0-9a-f]*$/i.test(hexA) || !/^[0-9a-f]*$/i.test(hexB)) throw new Error('hashes must be hex strings');
  let d = 0;
  for (let i = 0; i < hexA.length; i++) {
    let x = parseInt(hexA[i], 16) ^ parseInt(hexB[i], 16);
    for (; x; x &= x - 1) d++;
  }
  return d;
}

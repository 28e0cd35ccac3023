import { assertRgbImage, RawImage } from './decode';

export type { RawImage } from './decode';

/*
 * Classic LSB steganography: "ARTZ" + 32-bit big-endian byte length + UTF-8
 * bytes, one bit per R, G, B sample (alpha skipped), raster order, MSB first.
 * Fragile by design: any lossy re-encoding destroys it.
 */

const MAGIC = Buffer.from('ARTZ', 'ascii');
const HEADER_BYTES = MAGIC.length + 4;
/** Longest message, in UTF-8 bytes. */
export const MAX_STEGANO_BYTES = 64 * 1024;

/** Message bytes the image can hold (ignoring the 64 KiB cap). */
export function steganoCapacityBytes(width: number, height: number): number {
  return Math.max(0, Math.floor((width * height * 3) / 8) - HEADER_BYTES);
}

/** Byte offset of the `i`-th colour sample, skipping alpha. */
function sampleOffset(i: number, channels: number): number {
  return channels === 3 ? i : Math.floor(i / 3) * channels + (i % 3);
}

function writeBytes(data: Buffer, channels: number, bytes: Uint8Array): void {
  for (let i = 0; i < bytes.length * 8; i++) {
    const bit = (bytes[i >> 3] >> (7 - (i & 7))) & 1;
    const p = sampleOffset(i, channels);
    data[p] = (data[p] & 0xfe) | bit;
  }
}

function readBytes(data: Buffer, channels: number, firstByte: number, count: number): Buffer {
  const out = Buffer.alloc(count);
  for (let i = 0; i < count * 8; i++) {
    out[i >> 3] |= (data[sampleOffset(firstByte * 8 + i, channels)] & 1) << (7 - (i & 7));
  }
  return out;
}

/** Returns a copy of `raw` with `message` hidden in the colour LSBs. */
export function embedStegano(raw: RawImage, message: string): RawImage {
  const copy = { ...raw, data: Buffer.from(raw.data) };
  embedSteganoInPlace(copy, message);
  return copy;
}

/** Hides `message` in the colour LSBs of `raw` itself (no copy of a full-resolution image). */
export function embedSteganoInPlace(raw: RawImage, message: string): void {
  assertRgbImage(raw);
  const body = Buffer.from(message, 'utf8');
  if (body.length > MAX_STEGANO_BYTES) {
    throw new Error(`stegano message is ${body.length} bytes, the maximum is ${MAX_STEGANO_BYTES}`);
  }
  const capacity = steganoCapacityBytes(raw.width, raw.height);
  if (body.length > capacity) {
    throw new Error(`image too small for stegano message: ${raw.width}x${raw.height} holds ${capacity} bytes, message is ${body.length}`);
  }
  const header = Buffer.alloc(HEADER_BYTES);
  MAGIC.copy(header);
  header.writeUInt32BE(body.length, MAGIC.length);
  writeBytes(raw.data, raw.channels, Buffer.concat([header, body]));
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The hidden message, or null when the magic is absent or the header/UTF-8 is inconsistent. */
export function extractStegano(raw: RawImage): string | null {
  assertRgbImage(raw);
  const capacity = steganoCapacityBytes(raw.width, raw.height);
  if (raw.width * raw.height * 3 < HEADER_BYTES * 8) return null;
  const header = readBytes(raw.data, raw.channels, 0, HEADER_BYTES);
  if (!header.subarray(0, MAGIC.length).equals(MAGIC)) return null;
  const length = header.readUInt32BE(MAGIC.length);
  if (length > MAX_STEGANO_BYTES || length > capacity) return null;
  try {
    return utf8.decode(readBytes(raw.data, raw.channels, HEADER_BYTES, length));
  } catch {
    return null;
  }
}

import { crc32 } from './crc32';

/** Longest watermark text, in UTF-8 bytes. */
export const MAX_WATERMARK_BYTES = 256;
/** Frame bits around the text: 16-bit byte length + CRC-32. */
export const FRAME_OVERHEAD_BITS = 16 + 32;

// Salting the CRC with a key keeps an all-zero frame (length 0, CRC 0) from being valid.
const CRC_SALT = crc32(Buffer.from('artorizer-watermark-frame-v1', 'utf8'));

export function frameBits(byteLength: number): number {
  return FRAME_OVERHEAD_BITS + 8 * byteLength;
}

function checksum(lengthAndText: Uint8Array): number {
  return crc32(lengthAndText, CRC_SALT);
}

/** length(16, big-endian) + bytes + CRC-32, as bits, most significant first. */
export function encodeFrame(text: Uint8Array): Uint8Array {
  if (text.length > MAX_WATERMARK_BYTES) {
    throw new Error(`watermark text is ${text.length} bytes, the maximum is ${MAX_WATERMARK_BYTES}`);
  }
  const bytes = Buffer.alloc(2 + text.length + 4);
  bytes.writeUInt16BE(text.length, 0);
  bytes.set(text, 2);
  bytes.writeUInt32BE(checksum(bytes.subarray(0, 2 + text.length)), 2 + text.length);
  const bits = new Uint8Array(bytes.length * 8);
  for (let i = 0; i < bits.length; i++) bits[i] = (bytes[i >> 3] >> (7 - (i & 7))) & 1;
  return bits;
}

function bitsToBytes(bits: ArrayLike<number>): Buffer {
  const bytes = Buffer.alloc(bits.length >> 3);
  for (let i = 0; i < bytes.length * 8; i++) bytes[i >> 3] |= (bits[i] & 1) << (7 - (i & 7));
  return bytes;
}

/** Reads the 16-bit length field from the first 16 bits. */
export function frameLength(bits: ArrayLike<number>): number {
  return bitsToBytes(Array.from({ length: 16 }, (_, i) => bits[i])).readUInt16BE(0);
}

/** The text bytes of a complete frame, or null when the length or CRC does not check out. */
export function decodeFrame(bits: ArrayLike<number>): Buffer | null {
  const bytes = bitsToBytes(bits);
  if (bytes.length < 6) return null;
  const n = bytes.readUInt16BE(0);
  if (n > MAX_WATERMARK_BYTES || bytes.length !== n + 6) return null;
  if (bytes.readUInt32BE(2 + n) !== checksum(bytes.subarray(0, 2 + n))) return null;
  return bytes.subarray(2, 2 + n);
}

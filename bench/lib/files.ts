import { randomFillSync } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

const PNG_MAGIC = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
export const MIB = 1024 * 1024;

/**
 * A file of `sizeMiB` MiB: the 8-byte PNG signature (enough for the router's sniffing of the
 * first 16 bytes), then random bytes. Not a decodable image: the processor accepts the
 * upload (202) and the job fails later as invalid_image, which does not matter for
 * transfer timing.
 */
export function writeTestFile(dir: string, sizeMiB: number): string {
  const bytes = Math.round(sizeMiB * MIB);
  const file = path.join(dir, `bench-${sizeMiB}MiB.png`);
  const fd = fs.openSync(file, 'w');
  try {
    fs.writeSync(fd, PNG_MAGIC);
    const block = 4 * MIB;
    for (let written = PNG_MAGIC.length; written < bytes;) {
      const n = Math.min(block, bytes - written);
      fs.writeSync(fd, randomBlock(n));
      written += n;
    }
  } finally {
    fs.closeSync(fd);
  }
  return file;
}

function randomBlock(n: number): Buffer {
  return randomFillSync(Buffer.allocUnsafe(n));
}

/**
 * One test file per size (MiB) in `dir`, and the upload limit (MAX_FILE_SIZE) the services
 * get so that the largest fits: at least 256 MiB.
 */
export function writeTestFiles(dir: string, sizes: Iterable<number>): { files: Map<number, string>; maxBytes: number } {
  const files = new Map([...sizes].map((size) => [size, writeTestFile(dir, size)]));
  return { files, maxBytes: Math.max(256 * MIB, Math.ceil(Math.max(...files.keys()) * MIB) + MIB) };
}

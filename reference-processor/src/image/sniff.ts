import fs from 'node:fs/promises';
import { RasterType, SNIFF_BYTES, sniffRaster } from '@artorizer/contract';

/** The raster type of the file at `path`, read from its first bytes. */
export async function sniffFile(path: string): Promise<RasterType | undefined> {
  const file = await fs.open(path, 'r');
  try {
    const head = Buffer.alloc(SNIFF_BYTES);
    const { bytesRead } = await file.read(head, 0, SNIFF_BYTES, 0);
    return sniffRaster(head.subarray(0, bytesRead));
  } finally {
    await file.close();
  }
}

import path from 'node:path';
import { ProtectionOptions } from '@artorizer/contract';
import { Protection, protectImage } from '../core/protect';
import { DecodedImage } from './decoded-image';
import { HashSelection, ImageHashes, computeHashes } from './hashes';
import { extractStegano } from './stegano';

/** Everything a job does with its pixels: the analysis that reads them, then the protection. */
export interface PixelWorkRequest {
  path: string;
  maxPixels: number;
  hashes: HashSelection;
  /** Look for an existing LSB stegano message. */
  stegano: boolean;
  protection: ProtectionOptions;
  originalFormat: string;
  /** Folder the protected image is written to. */
  jobDir: string;
}

export interface PixelWorkResult {
  hashes: ImageHashes;
  existingStegano: string | null;
  protection: Protection;
}

/** Decodes the image once, analyses it, then protects it; `onProtecting` marks the change of stage. */
export async function doPixelWork(request: PixelWorkRequest, onProtecting: () => void): Promise<PixelWorkResult> {
  const decoded = new DecodedImage(request.path, request.maxPixels);
  const hashes = Object.values(request.hashes).some(Boolean) ? await computeHashes(await decoded.pixels(), request.hashes) : {};
  const existingStegano = request.stegano ? extractStegano(await decoded.pixels()) : null;
  onProtecting();
  const protection = await protectImage(decoded, request.originalFormat, request.protection, (name) => path.join(request.jobDir, name));
  return { hashes, existingStegano, protection };
}

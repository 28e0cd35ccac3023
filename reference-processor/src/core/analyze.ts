import sharp from 'sharp';
import { Analysis, AnalysisOptions, AnalysisProcessor, ImageInfo, ProcessorOutcome } from '@artorizer/contract';
import { HashSelection, ImageHashes } from '../image/hashes';
import { ACCEPTED_TYPES_TEXT, DEFAULT_PROCESSORS } from '@artorizer/contract';
import { sniffFile } from '../image/sniff';
import { HashedFile } from './ingest';

/** A file sharp cannot decode; the job fails with INVALID_IMAGE. */
export class InvalidImageError extends Error {
  override name = 'InvalidImageError';
}

/** An image with more pixels than MAX_IMAGE_PIXELS (a decompression bomb, say); the job fails with TOO_LARGE. */
export class TooManyPixelsError extends Error {
  override name = 'TooManyPixelsError';
}

/** The header facts of a job's image, and its content type as sniffed from its bytes. */
export interface DescribedImage {
  info: ImageInfo;
  contentType: string;
}

/**
 * Reads the facts every job needs (format, size, hash) from the header alone, and fails on
 * non-images (anything that is not a raster type by its first bytes, SVG included) and on
 * images over `maxPixels` before anything is decoded.
 */
export async function describeImage(file: HashedFile, maxPixels: number): Promise<DescribedImage> {
  const type = await sniffFile(file.path);
  if (!type) throw new InvalidImageError(`the file is not a decodable image: its bytes are not ${ACCEPTED_TYPES_TEXT}`);
  let meta: sharp.Metadata;
  try {
    // Header only; the pixel count is checked below against our own limit, with a clear error.
    meta = await sharp(file.path, { limitInputPixels: false }).metadata();
  } catch (err) {
    throw new InvalidImageError(`the file is not a decodable image: ${(err as Error).message}`);
  }
  if (meta.format !== type.format || !meta.width || !meta.height) {
    throw new InvalidImageError(`the file is not a decodable image: no ${type.format} header with dimensions`);
  }
  if (meta.width * meta.height > maxPixels) {
    throw new TooManyPixelsError(`the image is ${meta.width}x${meta.height} (${meta.width * meta.height} pixels), over this processor's limit of ${maxPixels} pixels (MAX_IMAGE_PIXELS)`);
  }
  const info: ImageInfo = {
    format: meta.format,
    width: meta.autoOrient?.width ?? meta.width,
    height: meta.autoOrient?.height ?? meta.height,
    channels: meta.channels ?? 0,
    colorSpace: meta.space ?? '',
    hasAlpha: meta.hasAlpha ?? false,
    hasExif: Boolean(meta.exif),
    sizeBytes: file.sizeBytes,
    sha256: file.sha256,
  };
  return { info, contentType: type.contentType };
}

export function requestedProcessors(options: AnalysisOptions): AnalysisProcessor[] {
  if (!options.includeHashAnalysis) return [];
  const chosen = options.processors.length > 0 ? [...options.processors] : [...DEFAULT_PROCESSORS];
  if (options.enableTineye && !chosen.includes(AnalysisProcessor.ANALYSIS_PROCESSOR_TINEYE)) {
    chosen.push(AnalysisProcessor.ANALYSIS_PROCESSOR_TINEYE);
  }
  return [...new Set(chosen)];
}

/** What the requested analysis needs read from the pixels (hashes, a look for a stegano message). */
export function pixelAnalysis(options: AnalysisOptions): { hashes: HashSelection; stegano: boolean } {
  const wanted = new Set(requestedProcessors(options));
  const has = (p: AnalysisProcessor) => wanted.has(p);
  return {
    hashes: {
      average: has(AnalysisProcessor.ANALYSIS_PROCESSOR_IMAGEHASH),
      perceptual: has(AnalysisProcessor.ANALYSIS_PROCESSOR_IMAGEHASH),
      difference: has(AnalysisProcessor.ANALYSIS_PROCESSOR_DHASH),
      block: has(AnalysisProcessor.ANALYSIS_PROCESSOR_BLOCKHASH),
    },
    stegano: has(AnalysisProcessor.ANALYSIS_PROCESSOR_STEGANO),
  };
}

/** The analysis result from the header facts and what was read from the pixels. */
export function buildAnalysis(image: ImageInfo, options: AnalysisOptions, read: { hashes: ImageHashes; existingStegano: string | null }): Analysis {
  const outcomes: ProcessorOutcome[] = requestedProcessors(options).map((processor) =>
    processor === AnalysisProcessor.ANALYSIS_PROCESSOR_TINEYE
      ? { processor, ran: false, reason: 'TinEye needs an API key (TINEYE_API_KEY); none is configured on this processor' }
      : { processor, ran: true, reason: '' },
  );
  const { hashes } = read;
  return {
    image,
    hashes: {
      averageHash: hashes.averageHash ?? '',
      differenceHash: hashes.differenceHash ?? '',
      perceptualHash: hashes.perceptualHash ?? '',
      blockhash: hashes.blockhash ?? '',
    },
    existingSteganoMessage: read.existingStegano ?? '',
    processors: outcomes,
  };
}

import { acceptableDeclaredType, sniffRaster } from '@artorizer/contract';

export { SNIFF_BYTES } from '@artorizer/contract';

/** The image type the first bytes announce, or undefined when they are not a raster the processor decodes. */
export function sniffImageType(head: Buffer): string | undefined {
  return sniffRaster(head)?.contentType;
}

/**
 * A declared part type we refuse outright (SVG, HTML, anything but a raster type); generic
 * types (octet-stream, none) are let through and the bytes decide.
 */
export function isAcceptableDeclaredType(mime: string): boolean {
  return acceptableDeclaredType(mime);
}

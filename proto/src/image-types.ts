/** Bytes needed to recognise every accepted image type. */
export const SNIFF_BYTES = 16;

/** A raster format the processor decodes, told by its first bytes. */
export interface RasterType {
  /** sharp's name for the format. */
  format: 'jpeg' | 'png' | 'gif' | 'webp' | 'tiff' | 'heif';
  contentType: string;
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const AVIF_BRANDS = new Set(['avif', 'avis']);
const HEIF_BRANDS = new Set(['heic', 'heix', 'hevc', 'hevx', 'mif1', 'msf1']);

function ascii(head: Buffer, at: number, text: string): boolean {
  return head.length >= at + text.length && head.toString('latin1', at, at + text.length) === text;
}

/**
 * The raster type `head` starts with, or undefined: the one check of what an image is, at the
 * router's edge and in the processor. Only formats the processor decodes as pixels:
 * SVG (markup that librsvg would render, external references and all), the VIPS format and
 * anything else are not images to this processor, whatever their declared type.
 */
export function sniffRaster(head: Buffer): RasterType | undefined {
  if (head.length >= 8 && head.subarray(0, 8).equals(PNG_SIGNATURE)) return { format: 'png', contentType: 'image/png' };
  if (head.length >= 3 && head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) return { format: 'jpeg', contentType: 'image/jpeg' };
  if (ascii(head, 0, 'GIF87a') || ascii(head, 0, 'GIF89a')) return { format: 'gif', contentType: 'image/gif' };
  if (ascii(head, 0, 'RIFF') && ascii(head, 8, 'WEBP')) return { format: 'webp', contentType: 'image/webp' };
  if (ascii(head, 0, 'II*\0') || ascii(head, 0, 'MM\0*')) return { format: 'tiff', contentType: 'image/tiff' };
  if (ascii(head, 4, 'ftyp')) {
    const brand = head.toString('latin1', 8, 12);
    if (AVIF_BRANDS.has(brand)) return { format: 'heif', contentType: 'image/avif' };
    if (HEIF_BRANDS.has(brand)) return { format: 'heif', contentType: 'image/heif' };
  }
  return undefined;
}

/** The content types `sniffRaster` answers: every raster the processor decodes, one name each. */
export const RASTER_CONTENT_TYPES = ['image/png', 'image/jpeg', 'image/gif', 'image/webp', 'image/tiff', 'image/avif', 'image/heif'] as const;

const DECLARED_RASTER = new Set(['image/jpeg', 'image/jpg', 'image/pjpeg', 'image/png', 'image/x-png', 'image/gif', 'image/webp', 'image/tiff', 'image/avif', 'image/heif', 'image/heic']);
/** Types that say nothing about the bytes; these decide. */
const DECLARED_GENERIC = new Set(['', 'application/octet-stream', 'binary/octet-stream']);

/** Whether a client's declared content type may be accepted: a raster type, generic or none. */
export function acceptableDeclaredType(declared: string | undefined): boolean {
  const type = (declared ?? '').split(';')[0].trim().toLowerCase();
  return DECLARED_RASTER.has(type) || DECLARED_GENERIC.has(type);
}

export const ACCEPTED_TYPES_TEXT = 'JPEG, PNG, GIF, WebP, TIFF, AVIF or HEIF';

const FILE_EXTENSIONS: Record<string, string> = {
  'image/png': 'png',
  'image/jpeg': 'jpg',
  'image/gif': 'gif',
  'image/webp': 'webp',
  'image/tiff': 'tif',
  'image/avif': 'avif',
  'image/heif': 'heic',
  'application/json': 'json',
};

/** The file extension for a served Content-Type (its parameters ignored); "bin" when unknown. */
export function fileExtensionFor(contentType: string | null | undefined): string {
  const type = (contentType ?? '').split(';')[0].trim().toLowerCase();
  return FILE_EXTENSIONS[type] ?? 'bin';
}

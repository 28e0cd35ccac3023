/** Bytes needed to recognise every supported image type. */
export const SNIFF_BYTES = 16;

function ascii(buf: Buffer, at: number, text: string): boolean {
  return buf.length >= at + text.length && buf.toString('latin1', at, at + text.length) === text;
}

const HEIF_BRANDS = new Set(['avif', 'avis', 'heic', 'heix', 'hevc', 'hevx', 'mif1', 'msf1']);

/** The image type the first bytes announce, or undefined when they are not an image we accept. */
export function sniffImageType(head: Buffer): string | undefined {
  if (head.length >= 8 && head.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return 'image/png';
  if (head.length >= 3 && head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) return 'image/jpeg';
  if (ascii(head, 0, 'GIF87a') || ascii(head, 0, 'GIF89a')) return 'image/gif';
  if (ascii(head, 0, 'RIFF') && ascii(head, 8, 'WEBP')) return 'image/webp';
  if (ascii(head, 0, 'II*\0') || ascii(head, 0, 'MM\0*')) return 'image/tiff';
  if (ascii(head, 0, 'BM') && head.length >= 6) return 'image/bmp';
  if (ascii(head, 4, 'ftyp') && HEIF_BRANDS.has(head.toString('latin1', 8, 12))) {
    return head.toString('latin1', 8, 12).startsWith('avi') ? 'image/avif' : 'image/heif';
  }
  return undefined;
}

/** A declared part type we refuse outright; the bytes decide for anything image-like or generic. */
export function isAcceptableDeclaredType(mime: string): boolean {
  const type = mime.toLowerCase();
  return type.startsWith('image/') || type === 'application/octet-stream' || type === '';
}

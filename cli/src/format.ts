import path from 'node:path';

/** Bytes in binary units, as the router counts its limits: "300 MiB", "12.4 KiB", "512 B". */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  if (unit === 0) return `${bytes} B`;
  const text = value >= 100 || Number.isInteger(value) ? value.toFixed(0) : value.toFixed(1);
  return `${text.replace(/\.0$/, '')} ${units[unit]}`;
}

/** Seconds as a person reads them: "5 s", "1 min 30 s". */
export function formatSeconds(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  return s % 60 === 0 ? `${s / 60} min` : `${Math.floor(s / 60)} min ${s % 60} s`;
}

const TYPE_NAMES: Record<string, string> = {
  'image/png': 'PNG',
  'image/jpeg': 'JPEG',
  'image/gif': 'GIF',
  'image/webp': 'WebP',
  'image/tiff': 'TIFF',
  'image/avif': 'AVIF',
  'image/heif': 'HEIF',
};

/** "JPEG, PNG, GIF, WebP, TIFF, AVIF or HEIF" from the router's accepted content types. */
export function typeList(types: readonly string[]): string {
  const names = types.map((t) => TYPE_NAMES[t] ?? t);
  // JPEG first, as people name it first
  names.sort((a, b) => (a === 'JPEG' ? -1 : b === 'JPEG' ? 1 : 0));
  return names.length <= 1 ? names.join('') : `${names.slice(0, -1).join(', ')} or ${names[names.length - 1]}`;
}

/** A file extension for a served Content-Type: the contract's, one list for the router and its clients. */
export { fileExtensionFor as extensionFor } from '@artorizer/contract';

const TYPES_BY_EXTENSION: Record<string, string> = {
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.jpe': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.tif': 'image/tiff',
  '.tiff': 'image/tiff',
  '.avif': 'image/avif',
  '.heif': 'image/heif',
  '.heic': 'image/heif',
};

/**
 * The type a file is declared as, from its name: an image type for image extensions, otherwise
 * the generic type, which leaves the decision to the router's look at the bytes.
 */
export function declaredType(file: string): string {
  return TYPES_BY_EXTENSION[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
}

/** The file name without its folder and extension: the default title and the output name. */
export function baseName(file: string): string {
  const base = path.basename(file);
  const ext = path.extname(base);
  return ext && ext !== base ? base.slice(0, -ext.length) : base;
}

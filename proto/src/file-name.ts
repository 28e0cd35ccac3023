/** Longest file name kept, in UTF-8 bytes (most file systems' limit). */
export const MAX_FILE_NAME_BYTES = 255;

/**
 * A client's file name made safe for records, logs and `Content-Disposition`: the last path
 * segment only, without control or format characters, quotes or backslashes, trimmed to
 * MAX_FILE_NAME_BYTES (keeping the extension). Empty when nothing usable is left.
 */
export function safeFileName(raw: string | undefined): string {
  if (!raw) return '';
  const base = raw.split(/[/\\]/).pop() ?? '';
  let name = base
    .normalize('NFC')
    .replace(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}"]/gu, '')
    .replace(/\s+/g, ' ')
    .trim();
  if (name === '.' || name === '..') name = '';
  name = name.replace(/^\.+/, '');
  if (Buffer.byteLength(name) <= MAX_FILE_NAME_BYTES) return name;
  const dot = name.lastIndexOf('.');
  const ext = dot > 0 && name.length - dot <= 16 ? name.slice(dot) : '';
  let stem = '';
  let room = MAX_FILE_NAME_BYTES - Buffer.byteLength(ext);
  for (const char of name.slice(0, name.length - ext.length)) {
    room -= Buffer.byteLength(char);
    if (room < 0) break;
    stem += char;
  }
  return stem + ext;
}

/** `Content-Disposition: attachment` with an ASCII fallback and the UTF-8 name (RFC 6266). */
export function attachmentDisposition(name: string): string {
  const safe = safeFileName(name) || 'download';
  const ascii = safe.replace(/[^\x20-\x7e]/g, '_').replace(/[%;]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(safe)}`;
}

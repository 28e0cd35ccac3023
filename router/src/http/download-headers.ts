import { RASTER_CONTENT_TYPES, attachmentDisposition, fileExtensionFor, sniffRaster } from '@artorizer/contract';

/**
 * The type an artifact is served as: the raster type its first bytes show, JSON for the
 * analysis, and otherwise bytes to save, never a type a browser would run (SVG, HTML).
 */
export function servedType(variant: string, declared: string, head?: Buffer): string {
  if (variant === 'analysis' && declared.toLowerCase().startsWith('application/json')) return 'application/json';
  if (head) return sniffRaster(head)?.contentType ?? 'application/octet-stream';
  return (RASTER_CONTENT_TYPES as readonly string[]).includes(declared.toLowerCase()) ? declared.toLowerCase() : 'application/octet-stream';
}

/** A download's file name: the job and the variant, with the served type's extension. */
export function downloadFileName(jobId: string, variant: string, type: string): string {
  return `${jobId}-${variant}.${fileExtensionFor(type)}`;
}

/**
 * Headers every download carries: served from the router's own origin, an artifact must never
 * be rendered as a page (a stored script), so it is typed from its bytes, not sniffed by the
 * browser, saved under a safe name, and sandboxed should it be opened anyway.
 */
export function downloadHeaders(jobId: string, variant: string, type: string): Record<string, string> {
  return {
    'Content-Type': type,
    'X-Content-Type-Options': 'nosniff',
    'Content-Security-Policy': "default-src 'none'; sandbox",
    'Content-Disposition': attachmentDisposition(downloadFileName(jobId, variant, type)),
  };
}

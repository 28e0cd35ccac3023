/**
 * The media type of a Content-Type header, lowercase and without parameters; '' when absent.
 * Used instead of req.is on the busiest routes, where type-is showed in the profile.
 */
export function mediaType(header: string | undefined): string {
  if (!header) return '';
  const semicolon = header.indexOf(';');
  return (semicolon === -1 ? header : header.slice(0, semicolon)).trim().toLowerCase();
}

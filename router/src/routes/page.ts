import path from 'node:path';
import express from 'express';

const PUBLIC_DIR = path.resolve(__dirname, '../../public');
/** tus-js-client's browser build, served as is: the page has no build step. */
const TUS_BROWSER_BUILD = path.join(path.dirname(require.resolve('tus-js-client/package.json')), 'dist', 'tus.min.js');

/**
 * The page's Content-Security-Policy: its own scripts and styles only (no inline code, no
 * CDNs), images from blobs of the files the artist picked, and fetches to the router and to
 * the store its downloads redirect to.
 */
function contentSecurityPolicy(storeOrigin: string | undefined): string {
  const store = storeOrigin ?? '';
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' blob: data:",
    `connect-src 'self'${store ? ` ${store}` : ''}`,
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "form-action 'self'",
  ].join('; ');
}

/** The artists' page at `/` and its static assets under `/assets/` (public, like /health). */
export function pageRoutes(router: express.IRouter, storeOrigin: string | undefined): void {
  const csp = contentSecurityPolicy(storeOrigin);
  const assets = express.static(path.join(PUBLIC_DIR, 'assets'), { index: false, maxAge: '1h' });
  router.get('/', (_req, res) => {
    res.setHeader('Content-Security-Policy', csp);
    res.setHeader('Cache-Control', 'no-cache');
    res.sendFile(path.join(PUBLIC_DIR, 'index.html'));
  });
  router.get('/assets/vendor/tus.min.js', (_req, res) => {
    res.sendFile(TUS_BROWSER_BUILD, { maxAge: '1d' });
  });
  router.use('/assets', assets);
}

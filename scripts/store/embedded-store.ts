import { AddressInfo } from 'node:net';
import S3rver from 's3rver';
import { addMultipartListing } from './multipart-listing';

/** Credentials s3rver accepts (it does not check signatures; these only have to be present). */
export const EMBEDDED_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;

/** The router's own origins under `make up`: where a browser that uploads straight to the store comes from. */
export const DEFAULT_ALLOWED_ORIGINS = ['http://127.0.0.1:7000', 'http://localhost:7000'];

const escapeXml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** A CORS rule for browsers' direct uploads, from the named origins only (never `*`). */
function corsRule(origins: string[]): string {
  const allowed = origins.map((o) => `<AllowedOrigin>${escapeXml(o)}</AllowedOrigin>`).join('');
  return `<CORSConfiguration><CORSRule>${allowed}<AllowedMethod>GET</AllowedMethod><AllowedMethod>PUT</AllowedMethod><AllowedMethod>POST</AllowedMethod><AllowedMethod>HEAD</AllowedMethod><AllowedHeader>*</AllowedHeader><ExposeHeader>ETag</ExposeHeader></CORSRule></CORSConfiguration>`;
}

export interface EmbeddedStore {
  endpoint: string;
  bucket: string;
  close(): Promise<void>;
}

/**
 * The embedded S3-compatible store (s3rver) of `make up` and the tests: a convenience for one
 * machine, not S3. It checks no signatures, so it listens on loopback unless told otherwise,
 * and answers CORS only for `allowedOrigins` (the router's origins); the storage suite also
 * runs against Ceph RGW, which checks everything.
 */
export async function startEmbeddedStore(options: { port: number; directory: string; bucket: string; address?: string; allowedOrigins?: string[] }): Promise<EmbeddedStore> {
  const server = new S3rver({
    port: options.port,
    address: options.address ?? '127.0.0.1',
    directory: options.directory,
    silent: true,
    configureBuckets: [{ name: options.bucket, configs: [corsRule(options.allowedOrigins ?? DEFAULT_ALLOWED_ORIGINS)] }],
  });
  addMultipartListing(server, options.directory);
  const address: AddressInfo = await server.run();
  return {
    endpoint: `http://${address.address}:${address.port}`,
    bucket: options.bucket,
    close: () => server.close(),
  };
}

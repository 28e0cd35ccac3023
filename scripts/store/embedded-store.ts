import { AddressInfo } from 'node:net';
import S3rver from 's3rver';

/** Credentials s3rver accepts (it does not check signatures; these only have to be present). */
export const EMBEDDED_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;

const CORS = `<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod><AllowedMethod>PUT</AllowedMethod><AllowedMethod>POST</AllowedMethod><AllowedMethod>HEAD</AllowedMethod><AllowedHeader>*</AllowedHeader><ExposeHeader>ETag</ExposeHeader></CORSRule></CORSConfiguration>`;

export interface EmbeddedStore {
  endpoint: string;
  bucket: string;
  close(): Promise<void>;
}

/**
 * The embedded S3-compatible store (s3rver) of `make up` and the tests: a convenience,
 * not S3 (it checks no signatures); the storage suite also runs against Ceph RGW.
 */
export async function startEmbeddedStore(options: { port: number; directory: string; bucket: string; address?: string }): Promise<EmbeddedStore> {
  const server = new S3rver({
    port: options.port,
    address: options.address ?? '127.0.0.1',
    directory: options.directory,
    silent: true,
    configureBuckets: [{ name: options.bucket, configs: [CORS] }],
  });
  const address: AddressInfo = await server.run();
  return {
    endpoint: `http://${address.address}:${address.port}`,
    bucket: options.bucket,
    close: () => server.close(),
  };
}

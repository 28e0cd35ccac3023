import fs from 'node:fs';
import path from 'node:path';
import { startEmbeddedStore } from './embedded-store';

/** `make store`: the embedded S3-compatible store in the foreground. */
async function main(): Promise<void> {
  const port = Number(process.env.S3_PORT ?? 9000);
  const directory = path.resolve(process.env.S3_DATA_DIR ?? 'data/s3');
  fs.mkdirSync(directory, { recursive: true });
  const store = await startEmbeddedStore({ port, directory, bucket: process.env.S3_BUCKET || 'artorizer', address: process.env.S3_HOST || '127.0.0.1' });
  process.stdout.write(`${JSON.stringify({ msg: 'store listening', endpoint: store.endpoint, bucket: store.bucket, directory })}\n`);
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => void store.close().then(() => process.exit(0)));
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`store failed to start: ${(err as Error).message}\n`);
  process.exit(1);
});

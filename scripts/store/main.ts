import fs from 'node:fs';
import path from 'node:path';
import { DEFAULT_ALLOWED_ORIGINS, startEmbeddedStore } from './embedded-store';

/** `make store`: the embedded S3-compatible store in the foreground. */
async function main(): Promise<void> {
  const port = Number(process.env.S3_PORT ?? 9000);
  const directory = path.resolve(process.env.S3_DATA_DIR ?? 'data/s3');
  fs.mkdirSync(directory, { recursive: true });
  const address = process.env.S3_HOST || '127.0.0.1';
  const allowedOrigins = process.env.ALLOWED_ORIGINS
    ? process.env.ALLOWED_ORIGINS.split(',')
        .map((o) => o.trim())
        .filter(Boolean)
    : DEFAULT_ALLOWED_ORIGINS;
  const store = await startEmbeddedStore({ port, directory, bucket: process.env.S3_BUCKET || 'artorizer', address, allowedOrigins });
  if (!['127.0.0.1', '::1', 'localhost'].includes(address)) {
    process.stderr.write(
      `${JSON.stringify({ level: 'warn', msg: 'the embedded store checks no signatures: anyone who can reach it can read and write every object; use it on one machine only', address })}\n`,
    );
  }
  process.stdout.write(`${JSON.stringify({ msg: 'store listening', endpoint: store.endpoint, bucket: store.bucket, directory })}\n`);
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => void store.close().then(() => process.exit(0)));
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`store failed to start: ${(err as Error).message}\n`);
  process.exit(1);
});

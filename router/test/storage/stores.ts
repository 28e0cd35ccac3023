import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { CreateBucketCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { EMBEDDED_CREDENTIALS, startEmbeddedStore } from '../../../scripts/store/embedded-store';
import { loadConfig } from '../../src/config';
import { ObjectStore } from '../../src/storage/object-store';

const run = promisify(execFile);
const RGW_SCRIPTS = path.resolve(__dirname, '../../../scripts/rgw');

/** An S3-compatible store for one test file, with the env both services need to use it. */
export interface TestStore {
  name: 'embedded' | 'rgw';
  env: Record<string, string>;
  client: S3Client;
  bucket: string;
  /** Whether the store checks signatures, policies and multipart state (s3rver does not). */
  strict: boolean;
  keys(prefix: string): Promise<string[]>;
  stop(): Promise<void>;
}

function s3Client(endpoint: string, credentials: { accessKeyId: string; secretAccessKey: string }): S3Client {
  return new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' });
}

function withKeys(client: S3Client, bucket: string) {
  return async (prefix: string) => {
    const out = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
    return (out.Contents ?? []).map((o) => o.Key ?? '');
  };
}

/** The router's ObjectStore on a test store, configured as a router given the store's env is. */
export function objectStoreOn(store: TestStore): ObjectStore {
  return new ObjectStore(loadConfig(store.env).store!);
}

/** The embedded store on a free port; `allowedOrigins`: the browser origins it answers CORS for (default the router's under `make up`). */
export async function startEmbedded(bucket = 'artorizer-test', allowedOrigins?: string[]): Promise<TestStore & { restart(): Promise<void>; halt(): Promise<void> }> {
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'artorizer-s3rver-'));
  let store = await startEmbeddedStore({ port: 0, directory, bucket, allowedOrigins });
  const port = Number(new URL(store.endpoint).port);
  const client = s3Client(store.endpoint, EMBEDDED_CREDENTIALS);
  return {
    name: 'embedded',
    bucket,
    strict: false,
    client,
    env: { S3_ENDPOINT: store.endpoint, S3_BUCKET: bucket, AWS_ACCESS_KEY_ID: EMBEDDED_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: EMBEDDED_CREDENTIALS.secretAccessKey, S3_REGION: 'us-east-1' },
    keys: withKeys(client, bucket),
    halt: () => store.close(),
    restart: async () => {
      store = await startEmbeddedStore({ port, directory, bucket, allowedOrigins });
    },
    stop: async () => {
      client.destroy();
      await store.close().catch(() => undefined);
      fs.rmSync(directory, { recursive: true, force: true });
    },
  };
}

/** Why the real engine is not available here, or undefined when it is. */
export async function rgwUnavailable(): Promise<string | undefined> {
  try {
    await run('which', ['radosgw']);
    return undefined;
  } catch {
    return 'Ceph RGW is not installed (scripts/rgw/install.sh installs it; .ci/run does)';
  }
}

/** A throwaway single-node Ceph RGW from scripts/rgw/start.sh. */
export async function startRgw(bucket = 'artorizer-test'): Promise<TestStore> {
  const { stdout } = await run(path.join(RGW_SCRIPTS, 'start.sh'), [], { timeout: 120_000 });
  const vars = Object.fromEntries(
    stdout
      .trim()
      .split('\n')
      .map((line) => line.split(/=(.*)/s).slice(0, 2) as [string, string]),
  );
  const credentials = { accessKeyId: vars.AWS_ACCESS_KEY_ID, secretAccessKey: vars.AWS_SECRET_ACCESS_KEY };
  const client = s3Client(vars.S3_ENDPOINT, credentials);
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  return {
    name: 'rgw',
    bucket,
    strict: true,
    client,
    env: { S3_ENDPOINT: vars.S3_ENDPOINT, S3_BUCKET: bucket, AWS_ACCESS_KEY_ID: credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey, S3_REGION: 'us-east-1' },
    keys: withKeys(client, bucket),
    stop: async () => {
      client.destroy();
      await run(path.join(RGW_SCRIPTS, 'stop.sh'), [vars.RGW_DIR]);
    },
  };
}

/**
 * Registers a suite that needs Ceph RGW when it is installed, and always with CI=true (where
 * its absence must fail the run); otherwise prints why it did not run and records it in one test.
 */
export function describeWithRgw(name: string, body: () => void): void {
  const reason = (() => {
    try {
      require('node:child_process').execFileSync('which', ['radosgw'], { stdio: 'ignore' });
      return undefined;
    } catch {
      return 'Ceph RGW is not installed (scripts/rgw/install.sh installs it; .ci/run does)';
    }
  })();
  if (reason && process.env.CI !== 'true') {
    process.stderr.write(`\n[${name}] not running against Ceph RGW: ${reason}\n`);
    describe(name, () => {
      it('needs Ceph RGW, which is absent on this machine (CI installs it)', async () => {
        expect(await rgwUnavailable()).toBe(reason);
      });
    });
    return;
  }
  describe(name, body);
}

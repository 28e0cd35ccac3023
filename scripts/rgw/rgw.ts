import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';

const run = promisify(execFile);
const SCRIPTS = __dirname;

export interface RgwStore {
  endpoint: string;
  bucket: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** The S3_* and AWS_* variables a router or processor needs to use it. */
  env: Record<string, string>;
  /** Stops it and removes its data; once, whoever calls. */
  stop(): Promise<void>;
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

/** A client for an S3-compatible store on an endpoint (path-style, checksums only when required). */
export function s3ClientFor(endpoint: string, credentials: { accessKeyId: string; secretAccessKey: string }): S3Client {
  return new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' });
}

/** A throwaway single-node Ceph RGW from start.sh, with `bucket` created in it. */
export async function startRgw(bucket: string, options: { memstoreBytes?: number } = {}): Promise<RgwStore> {
  const env = options.memstoreBytes ? { ...process.env, RGW_MEMSTORE_BYTES: String(options.memstoreBytes) } : process.env;
  const { stdout } = await run(path.join(SCRIPTS, 'start.sh'), [], { timeout: 120_000, env });
  const vars = Object.fromEntries(
    stdout
      .trim()
      .split('\n')
      .map((line) => line.split(/=(.*)/s).slice(0, 2) as [string, string]),
  );
  const credentials = { accessKeyId: vars.AWS_ACCESS_KEY_ID, secretAccessKey: vars.AWS_SECRET_ACCESS_KEY };
  let stopping: Promise<unknown> | undefined;
  // once, however many callers (a run's own clean-up and its Ctrl-C handler) ask
  const stop = async () => {
    await (stopping ??= run(path.join(SCRIPTS, 'stop.sh'), [vars.RGW_DIR]));
  };
  const client = s3ClientFor(vars.S3_ENDPOINT, credentials);
  try {
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
  } catch (err) {
    await stop();
    throw err;
  } finally {
    client.destroy();
  }
  return {
    endpoint: vars.S3_ENDPOINT,
    bucket,
    credentials,
    env: { S3_ENDPOINT: vars.S3_ENDPOINT, S3_BUCKET: bucket, AWS_ACCESS_KEY_ID: credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey, S3_REGION: 'us-east-1' },
    stop,
  };
}

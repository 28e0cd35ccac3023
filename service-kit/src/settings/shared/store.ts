import { z } from 'zod';
import { Env } from '../../env-and-signals';
import { readSection, section, sourceName } from '../section';
import { text } from '../setting';

/**
 * Where the object store is, for the router and the processor alike. Each service adds its own
 * store settings (part sizes, reference prefixes) in a section of its own.
 */
export const s3ConnectionSettings = section('Object store', {
  endpoint: text({
    name: 'S3_ENDPOINT',
    default: undefined,
    meaning: 'S3-compatible endpoint (unset: AWS S3); setting it or `S3_BUCKET` configures the object store',
  }),
  bucket: text({
    name: 'S3_BUCKET',
    default: 'artorizer',
    meaning: 'bucket',
    allowed: 'at least 3 characters',
    check: z.string().min(3, 'must have at least 3 characters'),
  }),
  region: text({ name: 'S3_REGION', fallbackNames: ['AWS_REGION'], default: 'us-east-1', meaning: 'region' }),
  accessKeyId: text({
    name: 'AWS_ACCESS_KEY_ID',
    default: undefined,
    defaultText: 'SDK default chain',
    meaning: 'access key of the store credentials, with `AWS_SECRET_ACCESS_KEY`; unless both are set the AWS SDK looks for credentials itself (environment, profile, instance role)',
  }),
  secretAccessKey: text({ name: 'AWS_SECRET_ACCESS_KEY', default: undefined, defaultText: 'SDK default chain', meaning: 'secret key of the store credentials, with `AWS_ACCESS_KEY_ID`' }),
});

/** How to reach the object store. */
export interface S3Connection {
  /** Unset means AWS S3. */
  endpoint?: string;
  region: string;
  bucket: string;
  /** Unset means the SDK's default chain (environment, profile, instance role). */
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

/** The store the environment names: undefined unless `S3_ENDPOINT` or `S3_BUCKET` is set. */
export function readS3Connection(env: Env): S3Connection | undefined {
  const { settings } = s3ConnectionSettings;
  if (!sourceName(env, settings.endpoint) && !sourceName(env, settings.bucket)) return undefined;
  const values = readSection(env, s3ConnectionSettings);
  return {
    endpoint: values.endpoint,
    region: values.region,
    bucket: values.bucket,
    credentials: values.accessKeyId && values.secretAccessKey ? { accessKeyId: values.accessKeyId, secretAccessKey: values.secretAccessKey } : undefined,
  };
}

import { TIMER_MAX_MS, adapt, integer, oneOf, s3ConnectionSettings, section, text } from '@artorizer/service-kit';

const WEEK_SECONDS = 7 * 24 * 3600;
const MIB = 1024 * 1024;

const connection = s3ConnectionSettings.settings;

/** The object store as the router uses it: the shared connection settings, then the router's own. */
export const storeSettings = section('Object store', {
  ...connection,
  endpoint: adapt(connection.endpoint, { meaning: 'S3-compatible endpoint (unset: AWS S3); setting it (or `S3_BUCKET`) configures the store' }),
  publicEndpoint: text({ name: 'S3_PUBLIC_ENDPOINT', default: undefined, defaultText: '`S3_ENDPOINT`', meaning: 'endpoint written into presigned URLs, the one clients and processors reach' }),
  s3Reference: oneOf({
    name: 'S3_REFERENCE',
    choices: ['presigned', 'key'],
    default: 'presigned',
    meaning: 'how processors get stored images: `presigned` (a GET URL) or `key` (bucket/key, for processors with their own credentials)',
  }),
  partBytes: integer({
    name: 'S3_PART_SIZE',
    default: 8 * MIB,
    min: 5 * MIB,
    meaning: 'multipart part size (min 5 MiB; 5, 8 and 16 MiB tried, with 1, 2 and 4 parts at once, by `bench/tools/s3-sweep.ts`)',
  }),
  queueSize: integer({ name: 'S3_QUEUE_SIZE', default: 2, min: 1, max: 16, meaning: 'parts uploaded at once (memory in flight is about part size times this)' }),
  presignExpirySeconds: integer({ name: 'PRESIGN_EXPIRY_SECONDS', default: 900, min: 1, max: WEEK_SECONDS, meaning: 'lifetime of presigned GETs for processors and downloads' }),
  uploadUrlExpirySeconds: integer({ name: 'UPLOAD_URL_EXPIRY_SECONDS', default: 600, min: 1, max: WEEK_SECONDS, meaning: 'lifetime of `POST /uploads` grants' }),
  tusPartBytes: integer({
    name: 'TUS_PART_SIZE',
    default: 5 * MIB,
    min: 5 * MIB,
    meaning: "part size of resumable uploads in the store (at least 5 MiB, S3's minimum); each part waits on disk in `WORK_DIR` until whole, so the last part's upload follows the client's last byte",
  }),
  tusExpirySeconds: integer({
    name: 'TUS_UPLOAD_EXPIRY_SECONDS',
    default: 86_400,
    min: 1,
    meaning: 'how long a resumable (tus) upload may take from creation to its last byte; announced in `Upload-Expires`, 410 after, then swept; at most `OBJECT_RETENTION_DAYS`',
  }),
  autoS3ThresholdBytes: integer({
    name: 'AUTO_S3_THRESHOLD',
    default: undefined,
    min: 0,
    meaning:
      '`auto`: uploads declaring at least this many bytes go through the store (unset: none while a processor serves, because `make bench` measures `stream` faster than `s3` at every size it tries)',
  }),
  retentionDays: integer({ name: 'OBJECT_RETENTION_DAYS', default: 1, min: 1, max: 3650, meaning: 'lifetime of uploads and artifacts in the store' }),
  incompleteUploadTtlSeconds: integer({
    name: 'INCOMPLETE_UPLOAD_TTL_SECONDS',
    default: 7200,
    min: 1,
    meaning:
      "age at which the sweep aborts an incomplete multipart upload under `uploads/` (a killed router's); must exceed the longest upload; resumable uploads are kept until `TUS_UPLOAD_EXPIRY_SECONDS` instead",
  }),
  storeSweepIntervalSeconds: integer({
    name: 'STORE_SWEEP_INTERVAL_SECONDS',
    default: 600,
    min: 1,
    max: Math.floor(TIMER_MAX_MS / 1000),
    meaning: 'how often each router runs that sweep (also once at start-up)',
  }),
});

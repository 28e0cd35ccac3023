import { IMAGE_URL_ALLOWLIST, JOB_RETENTION_SECONDS, LOG_LEVEL, MAX_FILE_SIZE, SHUTDOWN_GRACE_MS, WORK_DIR, adapt, integer, milliseconds, section } from '@artorizer/service-kit';

/** What the processor accepts, how much it runs at once, and how long it keeps the results. */
export const jobSettings = section('Jobs', {
  maxImageBytes: adapt(MAX_FILE_SIZE, {
    formerNames: ['MAX_IMAGE_SIZE'],
    meaning: "largest image in bytes, uploads and fetches (the router's setting has the same name)",
  }),
  maxImagePixels: integer({
    name: 'MAX_IMAGE_PIXELS',
    default: 100_000_000,
    min: 1,
    meaning:
      'largest image in pixels, read from its header before decoding, so a decompression bomb fails its job (`JOB_ERROR_REASON_TOO_LARGE`) instead of exhausting memory; a job peaks at a few copies of its decoded pixels (3-4 bytes each; `make bench` measures it)',
  }),
  concurrency: integer({ name: 'PROCESSOR_CONCURRENCY', default: 2, min: 1, max: 64, meaning: 'jobs processed at once' }),
  maxQueuedJobs: integer({ name: 'MAX_QUEUED_JOBS', default: 1000, min: 1, meaning: 'waiting jobs before submits get `UNAVAILABLE` ("busy", HTTP 503 with `Retry-After`)' }),
  workRoot: adapt(WORK_DIR, {
    formerNames: ['PROCESSOR_WORK_DIR'],
    defaultText: '`$TMPDIR/artorizer-processor-<uid>`',
    meaning: 'working directory (0700): each processor works in a folder of its own inside it (job files 0600), removed on shutdown; at start the folders of processors that died are removed',
  }),
  fetchTimeoutMs: milliseconds({ name: 'FETCH_TIMEOUT_MS', default: 30_000, min: 1, meaning: 'timeout for fetching a referenced image' }),
  imageUrlAllowlist: adapt(IMAGE_URL_ALLOWLIST, {
    meaning: "hosts, IPs or CIDR ranges image URLs may reach although private (the object store's host is always allowed), checked when each connection is made, redirects included",
  }),
  jobRetentionSeconds: adapt(JOB_RETENTION_SECONDS, { meaning: 'how long finished jobs and files are kept' }),
  downloadChunkBytes: integer({ name: 'DOWNLOAD_CHUNK_SIZE', default: 256 * 1024, min: 1024, max: 3 * 1024 * 1024, meaning: 'bytes per `DownloadArtifact` chunk' }),
  shutdownGraceMs: adapt(SHUTDOWN_GRACE_MS, { default: 10_000, meaning: 'how long SIGTERM waits for running jobs before cancelling them' }),
});

/** Read by the logger, not by loadConfig; listed in the docs all the same. */
export const logSettings = section('Logs', { logLevel: LOG_LEVEL });

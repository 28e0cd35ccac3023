import { Env, GrpcTls, defaultWorkRoot, envInt, loadGrpcTls } from '@artorizer/service-kit';
import { parsePolicyList } from '@artorizer/net-guard';

/** Processor settings, read from the environment in one place and checked at start-up. */
export interface ProcessorConfig {
  /** Interface the gRPC server binds to, and the HTTP API unless `HTTP_HOST` is set (`HOST`, default 0.0.0.0). */
  host: string;
  /** Interface the legacy HTTP API binds to (`HTTP_HOST`, default `HOST`): loopback keeps it local while gRPC is exposed. */
  httpHost: string;
  /**
   * TLS on the gRPC port (`GRPC_TLS_CERT` + `GRPC_TLS_KEY`), mutual TLS when `GRPC_TLS_CA` is
   * set too (only clients with a certificate from that CA); unset: plaintext.
   */
  grpcTls?: GrpcTls;
  /** Serve the legacy HTTP API over HTTPS with the gRPC certificate and key (`HTTP_TLS=on`; client certificates required when `GRPC_TLS_CA` is set). */
  httpTls: boolean;
  /** gRPC port (`GRPC_PORT`, default 50051; 0 picks a free port). */
  grpcPort: number;
  /** Legacy HTTP API port (`HTTP_PORT`, default 8000; 0 picks a free port; -1 disables it). */
  httpPort: number;
  /** Largest accepted image in bytes (`MAX_FILE_SIZE`, the router's name too; `MAX_IMAGE_SIZE` is its former name; default 256 MiB). */
  maxImageBytes: number;
  /**
   * Largest accepted image in pixels (`MAX_IMAGE_PIXELS`, default 100,000,000): checked from the
   * header before decoding, so a decompression bomb fails its job instead of exhausting memory.
   * A job's peak is a few copies of its decoded pixels (3-4 bytes each; `make bench` measures it).
   */
  maxImagePixels: number;
  /** Jobs processed at once (`PROCESSOR_CONCURRENCY`, default 2). */
  concurrency: number;
  /** Jobs waiting beyond which submits get UNAVAILABLE, "busy" (`MAX_QUEUED_JOBS`, default 1000). */
  maxQueuedJobs: number;
  /**
   * Root of the working directories (`WORK_DIR`; `PROCESSOR_WORK_DIR` is its deprecated name,
   * read when WORK_DIR is unset; default `$TMPDIR/artorizer-processor-<uid>`). Mode 0700; each
   * running processor keeps uploads and job files in a folder of its own under it, removed when
   * it stops, and a start removes the folders of processors that died.
   */
  workRoot: string;
  /** Set when the root came from the deprecated `PROCESSOR_WORK_DIR`, so start-up can say so. */
  workRootFromDeprecatedName: boolean;
  /**
   * Hosts, IPs or CIDR ranges that image URLs may reach although private (`IMAGE_URL_ALLOWLIST`,
   * comma-separated, default none; the object store's host is always allowed). Checked when each
   * connection is made, redirects included.
   */
  imageUrlAllowlist: string[];
  /** Timeout for fetching a referenced image (`FETCH_TIMEOUT_MS`, default 30000). */
  fetchTimeoutMs: number;
  /** How long finished jobs are kept (`JOB_RETENTION_SECONDS`, default 86400). */
  jobRetentionMs: number;
  /** Chunk size of DownloadArtifact messages (`DOWNLOAD_CHUNK_SIZE`, default 256 KiB). */
  downloadChunkBytes: number;
  /** How long SIGTERM waits for running jobs before cancelling them (`SHUTDOWN_GRACE_MS`, default 10000). */
  shutdownGraceMs: number;
  /**
   * Object store (`S3_ENDPOINT` and/or `S3_BUCKET`, `S3_REGION`, `AWS_*` credentials): S3
   * references are read from it and artifacts written to `S3_BUCKET` under `jobs/<id>/`.
   */
  s3?: { endpoint?: string; region: string; bucket: string; credentials?: { accessKeyId: string; secretAccessKey: string } };
  /**
   * Key prefixes an S3 reference may name, in `S3_BUCKET` only (`S3_REFERENCE_PREFIXES`,
   * comma-separated, default `uploads/`, where the router writes uploads). Any other key is
   * refused: the referenced object is offered back as the job's `original` download.
   */
  s3ReferencePrefixes: string[];
}

function list(value: string | undefined, fallback: string[]): string[] {
  const items = (value ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
  return items.length > 0 ? items : fallback;
}

const int = envInt;

export function loadConfig(env: Env = process.env): ProcessorConfig {
  const grpcTls = loadGrpcTls(env, 'server');
  const httpTlsSetting = env.HTTP_TLS || 'off';
  if (httpTlsSetting !== 'on' && httpTlsSetting !== 'off') throw new Error(`HTTP_TLS must be "on" or "off", got "${httpTlsSetting}"`);
  const httpTls = httpTlsSetting === 'on';
  if (httpTls && !grpcTls) throw new Error('HTTP_TLS=on needs GRPC_TLS_CERT and GRPC_TLS_KEY (the HTTP API serves the same certificate)');
  return {
    host: env.HOST || '0.0.0.0',
    httpHost: env.HTTP_HOST || env.HOST || '0.0.0.0',
    grpcTls,
    httpTls,
    grpcPort: int(env, 'GRPC_PORT', 50051, 0, 65535),
    httpPort: int(env, 'HTTP_PORT', 8000, -1, 65535),
    // one name for the one limit, as on the router; MAX_IMAGE_SIZE is its former name, read when MAX_FILE_SIZE is unset
    maxImageBytes: int(env, env.MAX_FILE_SIZE === undefined && env.MAX_IMAGE_SIZE !== undefined ? 'MAX_IMAGE_SIZE' : 'MAX_FILE_SIZE', 256 * 1024 * 1024, 1),
    maxImagePixels: int(env, 'MAX_IMAGE_PIXELS', 100_000_000, 1),
    concurrency: int(env, 'PROCESSOR_CONCURRENCY', 2, 1, 64),
    maxQueuedJobs: int(env, 'MAX_QUEUED_JOBS', 1000, 1),
    workRoot: env.WORK_DIR || env.PROCESSOR_WORK_DIR || defaultWorkRoot('processor'),
    workRootFromDeprecatedName: !env.WORK_DIR && Boolean(env.PROCESSOR_WORK_DIR),
    imageUrlAllowlist: parsePolicyList(env.IMAGE_URL_ALLOWLIST),
    fetchTimeoutMs: int(env, 'FETCH_TIMEOUT_MS', 30_000, 1),
    jobRetentionMs: int(env, 'JOB_RETENTION_SECONDS', 86_400, 1) * 1000,
    downloadChunkBytes: int(env, 'DOWNLOAD_CHUNK_SIZE', 256 * 1024, 1024, 3 * 1024 * 1024),
    shutdownGraceMs: int(env, 'SHUTDOWN_GRACE_MS', 10_000, 0),
    s3:
      env.S3_ENDPOINT || env.S3_BUCKET
        ? {
            endpoint: env.S3_ENDPOINT || undefined,
            region: env.S3_REGION || env.AWS_REGION || 'us-east-1',
            bucket: env.S3_BUCKET || 'artorizer',
            // Unset means the SDK's default chain (environment, profile, instance role).
            credentials: env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY ? { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY } : undefined,
          }
        : undefined,
    s3ReferencePrefixes: list(env.S3_REFERENCE_PREFIXES, ['uploads/']),
  };
}

import { Env, GrpcTls, S3Connection, defaultWorkRoot, loadGrpcTls, readS3Connection, readSection, sourceName } from '@artorizer/service-kit';
import { jobSettings } from './config/jobs';
import { listenerSettings } from './config/listeners';
import { storeSettings } from './config/store';

/**
 * Processor settings, read from the environment in one place and checked at start-up. Each
 * variable is declared once, with its default, range and meaning, in `reference-processor/src/config/`
 * (the shared ones in `@artorizer/service-kit`); docs/configuration.md is generated from those declarations.
 */
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
  s3?: S3Connection;
  /**
   * Key prefixes an S3 reference may name, in `S3_BUCKET` only (`S3_REFERENCE_PREFIXES`,
   * comma-separated, default `uploads/`, where the router writes uploads). Any other key is
   * refused: the referenced object is offered back as the job's `original` download.
   */
  s3ReferencePrefixes: string[];
}

export function loadConfig(env: Env = process.env): ProcessorConfig {
  const listeners = readSection(env, listenerSettings);
  const jobs = readSection(env, jobSettings);
  const stored = readSection(env, storeSettings);
  const grpcTls = loadGrpcTls(env, 'server');
  if (listeners.httpTls && !grpcTls) throw new Error('HTTP_TLS=on needs GRPC_TLS_CERT and GRPC_TLS_KEY (the HTTP API serves the same certificate)');
  return {
    host: listeners.host,
    httpHost: listeners.httpHost ?? listeners.host,
    grpcTls,
    httpTls: listeners.httpTls,
    grpcPort: listeners.grpcPort,
    httpPort: listeners.httpPort,
    maxImageBytes: jobs.maxImageBytes,
    maxImagePixels: jobs.maxImagePixels,
    concurrency: jobs.concurrency,
    maxQueuedJobs: jobs.maxQueuedJobs,
    workRoot: jobs.workRoot ?? defaultWorkRoot('processor'),
    workRootFromDeprecatedName: sourceName(env, jobSettings.settings.workRoot) === 'PROCESSOR_WORK_DIR',
    imageUrlAllowlist: jobs.imageUrlAllowlist,
    fetchTimeoutMs: jobs.fetchTimeoutMs,
    jobRetentionMs: jobs.jobRetentionSeconds * 1000,
    downloadChunkBytes: jobs.downloadChunkBytes,
    shutdownGraceMs: jobs.shutdownGraceMs,
    s3: readS3Connection(env),
    s3ReferencePrefixes: stored.s3ReferencePrefixes,
  };
}

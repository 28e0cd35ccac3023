import { Env, GrpcTls, defaultWorkRoot, loadGrpcTls, readS3Connection, readSection } from '@artorizer/service-kit';
import { accessSettings } from './config/access';
import { TransferMode, processorSettings } from './config/processors';
import { queueSettings } from './config/queue';
import { serverSettings } from './config/server';
import { storeSettings } from './config/store';
import { RedisTarget, redisTargetFromEnv } from './redis';
import { StoreSettings } from './storage/object-store';

export type { TransferMode };
const STORE_MODES: readonly TransferMode[] = ['s3', 'direct', 'auto'];

/**
 * Router settings, read from the environment in one place and checked at start-up. Each variable
 * is declared once, with its default, range and meaning, in `router/src/config/` (the shared ones
 * in `@artorizer/service-kit`); docs/configuration.md is generated from those declarations.
 */
export interface RouterConfig {
  /** HTTP port (`PORT`, default 7000; 0 picks a free port). */
  port: number;
  /** Bind address (`HOST`, default 0.0.0.0). */
  host: string;
  /** How uploads reach the processor (`TRANSFER_MODE`, default stream). */
  mode: TransferMode;
  /** Processor gRPC addresses (`PROCESSOR_ADDR`, comma list, default 127.0.0.1:50051), balanced round-robin. */
  processorAddrs: string[];
  /**
   * TLS to the processors (`GRPC_TLS_CA`: CAs the processors' certificates are checked against,
   * the system's roots when unset; `GRPC_TLS_CERT` + `GRPC_TLS_KEY`: this router's client
   * certificate, for processors that require one); none set means plaintext.
   */
  grpcTls?: GrpcTls;
  /** Processor legacy HTTP API base URL (`PROCESSOR_HTTP_URL`, default http://127.0.0.1:8000), used in legacy mode. */
  processorHttpUrl: string;
  /** Timeout of the plain HTTP calls to that API (`PROCESSOR_HTTP_TIMEOUT_MS`, default 5000). */
  processorHttpTimeoutMs: number;
  /** Largest accepted image in bytes (`MAX_FILE_SIZE`, default 256 MiB). */
  maxFileBytes: number;
  /** Size of each encoded SubmitJob chunk message (`UPLOAD_CHUNK_SIZE`, default 1 MiB, the fastest measured). */
  chunkBytes: number;
  /** Deadline of unary gRPC calls (`GRPC_DEADLINE_MS`, default 5000). */
  grpcDeadlineMs: number;
  /**
   * Longest an inbound request may take to arrive whole (`REQUEST_TIMEOUT_MS`, default 1800000:
   * a 200 MB upload at about 1 Mbit/s); also the deadline of the streaming gRPC calls
   * (`GRPC_STREAM_DEADLINE_MS`, default the same), an upload relayed while it arrives included.
   */
  requestTimeoutMs: number;
  grpcStreamDeadlineMs: number;
  /** Longest a connection may stay silent, mid-request or mid-response (`REQUEST_IDLE_TIMEOUT_MS`, default 60000). */
  requestIdleTimeoutMs: number;
  /** Hosts or CIDRs image_url may reach although private (`IMAGE_URL_ALLOWLIST`, comma list). */
  imageUrlAllowlist: string[];
  /** How long shutdown waits for in-flight requests (`SHUTDOWN_GRACE_MS`, default 30000). */
  shutdownGraceMs: number;
  /** On SIGTERM, how long the router keeps serving with readiness at 503 before it stops accepting (`DRAIN_DELAY_MS`, default 0): time for a load balancer to take it out. */
  drainDelayMs: number;
  /** Seconds clients are told to wait after a 503 (`RETRY_AFTER_SECONDS`, default 5). */
  retryAfterSeconds: number;
  /**
   * The router's working directory (`WORK_DIR`; `SPOOL_DIR` is its former name), default
   * `artorizer-router-<uid>` under the OS temp dir: uploads whose metadata arrives after the
   * file wait there. Each process works in its own folder inside it (mode 0700, files 0600)
   * and removes, at start, the folders of routers that died.
   */
  workRoot: string;
  /** Object store, when `S3_ENDPOINT` or `S3_BUCKET` is set. */
  store?: StoreSettings;
  /** How processors get stored images (`S3_REFERENCE`): a presigned GET URL, or bucket/key for processors with their own credentials. */
  s3Reference: 'presigned' | 'key';
  /** Lifetime of presigned GET URLs handed to processors and clients (`PRESIGN_EXPIRY_SECONDS`, default 900). */
  presignExpirySeconds: number;
  /** Lifetime of direct-upload URLs from POST /uploads (`UPLOAD_URL_EXPIRY_SECONDS`, default 600). */
  uploadUrlExpirySeconds: number;
  /**
   * In `auto` mode, uploads declaring at least this many bytes go through the store
   * (`AUTO_S3_THRESHOLD`); unset (the default): none do while a processor serves, because
   * `make bench` measures `stream` faster than `s3` at every size it tries (its "auto" table).
   */
  autoS3ThresholdBytes?: number;
  /** Days before uploads and artifacts expire from the store (`OBJECT_RETENTION_DAYS`, default 1). */
  retentionDays: number;
  /**
   * Age after which an incomplete multipart upload under `uploads/` is aborted by the sweep
   * (`INCOMPLETE_UPLOAD_TTL_SECONDS`, default 7200): what a router killed mid-upload left.
   * Must exceed the longest upload any router accepts, or the sweep cuts live uploads short.
   */
  incompleteUploadTtlSeconds: number;
  /**
   * How long a resumable (tus) upload may take from creation to its last byte
   * (`TUS_UPLOAD_EXPIRY_SECONDS`, default 86400): tus's expiration extension announces it in
   * `Upload-Expires`, refuses later writes with 410, and the sweep then removes what is left.
   */
  tusExpirySeconds: number;
  /**
   * Part size of resumable uploads in the store (`TUS_PART_SIZE`, default and minimum 5 MiB):
   * each part waits on disk until it is whole, so the last one is uploaded after the client's
   * last byte; the smallest part S3 allows keeps that tail short.
   */
  tusPartBytes: number;
  /** How often each router runs that sweep, starting at start-up (`STORE_SWEEP_INTERVAL_SECONDS`, default 600). */
  storeSweepIntervalSeconds: number;
  /**
   * API keys (`API_KEYS_FILE`: `name:sha256hex[:max_priority=N]` a line; `make api-key` adds
   * one). Unset: the router is open to anyone who reaches it, and says so at start.
   */
  apiKeysFile?: string;
  /** Job and upload creations a minute per API key, and per client address on an open router (`RATE_LIMIT_SUBMITS_PER_MINUTE`, default 300; 0 = off). */
  submitsPerMinute: number;
  /** With keys, creations a minute per client address, all keys together (`RATE_LIMIT_SUBMITS_PER_MINUTE_PER_ADDRESS`, default 4x the per-key limit). */
  submitsPerMinutePerAddress: number;
  /** Multipart uploads in flight at once per key (per address when open), per router (`MAX_CONCURRENT_UPLOADS_PER_KEY`, default 16). */
  maxUploadsPerKey: number;
  /** Open event streams per key (per address when open), per router (`MAX_EVENT_STREAMS_PER_KEY`, default 64). */
  maxEventStreamsPerKey: number;
  /**
   * Which proxies in front of the router to believe about the client's address
   * (`TRUST_PROXY`: a hop count, or addresses/CIDRs/`loopback`, comma list; default none):
   * behind a load balancer, without it every client shares the balancer's address and its
   * per-address limits.
   */
  trustProxy: number | string | false;
  /** Origins browsers may call the API from (`ALLOWED_ORIGINS`, comma list, default none: same origin only). */
  allowedOrigins: string[];
  /** `/metrics` needs `Authorization: Bearer METRICS_TOKEN` when set (`METRICS_TOKEN`). */
  metricsToken?: string;
  /** Serve `/metrics` on this port instead of the API's (`METRICS_PORT`; bound to `METRICS_HOST`, default 127.0.0.1). */
  metricsPort?: number;
  metricsHost: string;
  /**
   * Queue and job store: one Redis server (`REDIS_URL`) or a Redis Cluster by its seed nodes
   * (`REDIS_CLUSTER_NODES=host:port,...`), not both; neither means synchronous submits, single instance.
   */
  redis?: RedisTarget;
  /** Key prefix in Redis (`REDIS_PREFIX`, default "artorizer"; the queue's keys carry it as their hash tag, `{artorizer}:...`). */
  redisPrefix: string;
  /** How long queued-job records are kept (`JOB_RETENTION_SECONDS`, default 86400). */
  jobRetentionSeconds: number;
  /** Dispatch attempts before the dead letter (`DISPATCH_ATTEMPTS`, default 8). */
  dispatchAttempts: number;
  /** First retry delay, doubling with jitter (`DISPATCH_BACKOFF_MS`, default 1000). */
  dispatchBackoffMs: number;
  /**
   * How long a dispatcher holds a job without renewing its lock (`DISPATCH_LOCK_MS`, default
   * 30000, BullMQ's): a job whose dispatcher died goes to another within about twice this.
   */
  dispatchLockMs: number;
  /** Queued jobs in flight per processor (`PROCESSOR_MAX_INFLIGHT`, default 4). */
  perProcessorLimit: number;
  /** Run the dispatcher inside this router (`DISPATCHER=inline`, default) or not (`off`: run `make dispatcher`). */
  inlineDispatcher: boolean;
  /** Processor health-check interval for the circuit breaker (`HEALTH_CHECK_INTERVAL_MS`, default 1000). */
  healthIntervalMs: number;
}

/** The router's store, when `S3_ENDPOINT` or `S3_BUCKET` names one. */
function readStore(env: Env, values: { publicEndpoint?: string; partBytes: number; queueSize: number }): StoreSettings | undefined {
  const connection = readS3Connection(env);
  if (!connection) return undefined;
  return { ...connection, publicEndpoint: values.publicEndpoint || connection.endpoint, partBytes: values.partBytes, queueSize: values.queueSize };
}

export function loadConfig(env: Env = process.env): RouterConfig {
  const server = readSection(env, serverSettings);
  const processors = readSection(env, processorSettings);
  const access = readSection(env, accessSettings);
  const stored = readSection(env, storeSettings);
  const queue = readSection(env, queueSettings);
  const store = readStore(env, stored);
  const mode = processors.mode ?? (store ? 'auto' : 'stream');
  if (STORE_MODES.includes(mode) && !store) throw new Error(`TRANSFER_MODE=${mode} needs an object store: set S3_ENDPOINT (or S3_BUCKET for AWS S3)`);
  // the store expires everything under uploads/ after the retention, a resumable upload's info included
  if (stored.tusExpirySeconds > stored.retentionDays * 86_400) throw new Error('TUS_UPLOAD_EXPIRY_SECONDS must not exceed OBJECT_RETENTION_DAYS (in seconds): the store expires uploads after that');
  // legacy mode re-posts to the original HTTP API, which has no labels to record a job's key in
  if (access.apiKeysFile && mode === 'legacy') throw new Error('API_KEYS_FILE needs a TRANSFER_MODE that records who owns a job (stream, s3, direct or auto), not legacy');
  return {
    port: server.port,
    host: server.host,
    mode,
    processorAddrs: processors.processorAddrs,
    grpcTls: loadGrpcTls(env, 'client'),
    processorHttpUrl: processors.processorHttpUrl,
    processorHttpTimeoutMs: processors.processorHttpTimeoutMs,
    maxFileBytes: server.maxFileBytes,
    chunkBytes: processors.chunkBytes,
    grpcDeadlineMs: processors.grpcDeadlineMs,
    requestTimeoutMs: server.requestTimeoutMs,
    grpcStreamDeadlineMs: processors.grpcStreamDeadlineMs ?? server.requestTimeoutMs,
    requestIdleTimeoutMs: server.requestIdleTimeoutMs,
    imageUrlAllowlist: server.imageUrlAllowlist,
    shutdownGraceMs: server.shutdownGraceMs,
    drainDelayMs: server.drainDelayMs,
    retryAfterSeconds: server.retryAfterSeconds,
    workRoot: server.workRoot ?? defaultWorkRoot('router'),
    store,
    s3Reference: stored.s3Reference,
    presignExpirySeconds: stored.presignExpirySeconds,
    uploadUrlExpirySeconds: stored.uploadUrlExpirySeconds,
    autoS3ThresholdBytes: stored.autoS3ThresholdBytes,
    retentionDays: stored.retentionDays,
    incompleteUploadTtlSeconds: stored.incompleteUploadTtlSeconds,
    tusExpirySeconds: stored.tusExpirySeconds,
    tusPartBytes: stored.tusPartBytes,
    storeSweepIntervalSeconds: stored.storeSweepIntervalSeconds,
    apiKeysFile: access.apiKeysFile,
    submitsPerMinute: access.submitsPerMinute,
    submitsPerMinutePerAddress: access.submitsPerMinutePerAddress ?? access.submitsPerMinute * 4,
    maxUploadsPerKey: access.maxUploadsPerKey,
    maxEventStreamsPerKey: access.maxEventStreamsPerKey,
    trustProxy: access.trustProxy,
    allowedOrigins: access.allowedOrigins,
    metricsToken: access.metricsToken,
    metricsPort: access.metricsPort,
    metricsHost: access.metricsHost,
    redis: redisTargetFromEnv(queue.redisUrl, queue.redisClusterNodes),
    redisPrefix: queue.redisPrefix,
    jobRetentionSeconds: queue.jobRetentionSeconds,
    dispatchAttempts: queue.dispatchAttempts,
    dispatchBackoffMs: queue.dispatchBackoffMs,
    dispatchLockMs: queue.dispatchLockMs,
    perProcessorLimit: queue.perProcessorLimit,
    inlineDispatcher: queue.dispatcher !== 'off',
    healthIntervalMs: processors.healthIntervalMs,
  };
}

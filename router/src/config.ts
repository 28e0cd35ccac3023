import { parsePolicyList } from './security/url-guard';

export type TransferMode = 'stream' | 'legacy';
const MODES: TransferMode[] = ['stream', 'legacy'];

/** Router settings, read from the environment in one place and checked at start-up. */
export interface RouterConfig {
  /** HTTP port (`PORT`, default 7000; 0 picks a free port). */
  port: number;
  /** Bind address (`HOST`, default 0.0.0.0). */
  host: string;
  /** How uploads reach the processor (`TRANSFER_MODE`, default stream). */
  mode: TransferMode;
  /** Processor gRPC addresses (`PROCESSOR_ADDR`, comma list, default 127.0.0.1:50051), balanced round-robin. */
  processorAddrs: string[];
  /** Processor legacy HTTP API base URL (`PROCESSOR_HTTP_URL`, default http://127.0.0.1:8000), used in legacy mode. */
  processorHttpUrl: string;
  /** Largest accepted image in bytes (`MAX_FILE_SIZE`, default 256 MiB). */
  maxFileBytes: number;
  /** Bytes per SubmitJob chunk message (`UPLOAD_CHUNK_SIZE`, default 256 KiB). */
  chunkBytes: number;
  /** Deadline of unary gRPC calls (`GRPC_DEADLINE_MS`, default 5000). */
  grpcDeadlineMs: number;
  /** Hosts or CIDRs image_url may reach although private (`IMAGE_URL_ALLOWLIST`, comma list). */
  imageUrlAllowlist: string[];
  /** How long shutdown waits for in-flight requests (`SHUTDOWN_GRACE_MS`, default 30000). */
  shutdownGraceMs: number;
  /** Seconds clients are told to wait after a 503 (`RETRY_AFTER_SECONDS`, default 5). */
  retryAfterSeconds: number;
  /** Directory for spooling uploads whose metadata arrives after the file (`SPOOL_DIR`, default OS temp). */
  spoolDir?: string;
}

type Env = Record<string, string | undefined>;

function int(env: Env, name: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${name} must be an integer between ${min} and ${max}, got "${raw}"`);
  }
  return value;
}

export function loadConfig(env: Env = process.env): RouterConfig {
  const mode = (env.TRANSFER_MODE || 'stream') as TransferMode;
  if (!MODES.includes(mode)) throw new Error(`TRANSFER_MODE must be one of ${MODES.join(', ')}, got "${mode}"`);
  const processorAddrs = (env.PROCESSOR_ADDR || '127.0.0.1:50051').split(',').map((a) => a.trim()).filter(Boolean);
  if (processorAddrs.length === 0) throw new Error('PROCESSOR_ADDR must name at least one host:port');
  return {
    port: int(env, 'PORT', 7000, 0, 65535),
    host: env.HOST || '0.0.0.0',
    mode,
    processorAddrs,
    processorHttpUrl: (env.PROCESSOR_HTTP_URL || 'http://127.0.0.1:8000').replace(/\/$/, ''),
    maxFileBytes: int(env, 'MAX_FILE_SIZE', 256 * 1024 * 1024, 1),
    chunkBytes: int(env, 'UPLOAD_CHUNK_SIZE', 256 * 1024, 1024, 4 * 1024 * 1024 - 1024),
    grpcDeadlineMs: int(env, 'GRPC_DEADLINE_MS', 5000, 1),
    imageUrlAllowlist: parsePolicyList(env.IMAGE_URL_ALLOWLIST),
    shutdownGraceMs: int(env, 'SHUTDOWN_GRACE_MS', 30_000, 0),
    retryAfterSeconds: int(env, 'RETRY_AFTER_SECONDS', 5, 1),
    spoolDir: env.SPOOL_DIR || undefined,
  };
}

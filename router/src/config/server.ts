import { HOST, IMAGE_URL_ALLOWLIST, LOG_LEVEL, MAX_FILE_SIZE, SHUTDOWN_GRACE_MS, WORK_DIR, adapt, integer, milliseconds, section } from '@artorizer/service-kit';

/** The router's HTTP side: where it listens, how long requests may take, how it stops. */
export const serverSettings = section('HTTP server', {
  port: integer({ name: 'PORT', default: 7000, min: 0, max: 65535, meaning: 'HTTP port (0 picks a free port)' }),
  host: HOST,
  maxFileBytes: adapt(MAX_FILE_SIZE, { meaning: 'largest upload in bytes (413 above)' }),
  imageUrlAllowlist: adapt(IMAGE_URL_ALLOWLIST, { meaning: 'hosts, IPs or CIDR ranges `image_url` may reach although private' }),
  retryAfterSeconds: integer({ name: 'RETRY_AFTER_SECONDS', default: 5, min: 1, meaning: '`Retry-After` on 503: seconds clients are told to wait' }),
  shutdownGraceMs: adapt(SHUTDOWN_GRACE_MS, { meaning: 'how long SIGTERM waits for in-flight requests' }),
  drainDelayMs: milliseconds({
    name: 'DRAIN_DELAY_MS',
    default: 0,
    min: 0,
    max: 600_000,
    meaning: 'on SIGTERM, how long the router keeps serving with `/health/ready` at 503 (`draining`) before it stops accepting: time for a load balancer to take it out',
  }),
  workRoot: adapt(WORK_DIR, {
    formerNames: ['SPOOL_DIR'],
    defaultText: '`$TMPDIR/artorizer-router-<uid>`',
    meaning:
      'working directory (0700): each router process works in a folder of its own inside it (late-metadata uploads wait there, files 0600) and removes at start the folders of routers that died',
  }),
  requestTimeoutMs: milliseconds({
    name: 'REQUEST_TIMEOUT_MS',
    default: 30 * 60 * 1000,
    defaultText: '1800000 (30 min)',
    min: 1000,
    meaning: 'longest an inbound request may take to arrive whole (a 200 MB upload at about 1 Mbit/s); 408 and the connection closed after',
  }),
  requestIdleTimeoutMs: milliseconds({ name: 'REQUEST_IDLE_TIMEOUT_MS', default: 60_000, min: 1000, meaning: 'longest a connection may stay silent mid-request or mid-response' }),
});

/** Read where they are used (the logger, `router/src/cluster-main.ts`), not by loadConfig; listed in the docs all the same. */
export const processSettings = section('Process', {
  logLevel: adapt(LOG_LEVEL, {
    meaning: 'pino level; JSON logs on stdout; at `info` one `request completed` line per request (`/health*` and `/metrics` excepted)',
  }),
  workers: integer({
    name: 'ROUTER_WORKERS',
    default: undefined,
    defaultText: 'cores',
    min: 1,
    meaning:
      'worker processes of `router/src/cluster-main.ts`; more than one with an object store needs Redis (`REDIS_URL` or `REDIS_CLUSTER_NODES`: upload grants and rate limits are shared there), else it refuses to start',
  }),
});

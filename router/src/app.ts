import { once } from 'node:events';
import http from 'node:http';
import { openWorkDir } from '@artorizer/service-kit';
import { AddressInfo } from 'node:net';
import express, { NextFunction, Request, Response } from 'express';
import { RouterConfig } from './config';
import { ProcessorPool } from './grpc/processor-pool';
import { createExpressServer } from './http/express-server';
import { useRequestLog } from './http/request-log';
import { requestDeadline } from './http/request-deadline';
import { HttpError, toHttpError } from './http/errors';
import { GrpcJobBackend } from './jobs/grpc-backend';
import { LegacyJobBackend } from './jobs/legacy-backend';
import { processorHttpApi } from './legacy/processor-http-api';
import { Logger } from './logger';
import { Metrics, createMetrics } from './metrics';
import { ProcessorReadiness, healthRoutes, legacyReadiness } from './routes/health';
import { infoRoute } from './routes/info';
import { pageRoutes } from './routes/page';
import { jobRoutes } from './routes/jobs';
import { protectRoutes } from './routes/protect';
import { uploadRoutes } from './routes/uploads';
import { ObjectStore, UPLOAD_PREFIX, uploadKeyFor } from './storage/object-store';
import { RedisConnection, RedisTarget, describeTarget, openRedis } from './redis';
import { openLoggedRedis, openObjectStore, openProcessorPool, startDispatchCore } from './dispatch-core';
import { JobBackend } from './jobs/backend';
import { QueuedJobBackend } from './jobs/queued-backend';
import { DispatchQueue } from './queue/dispatch-queue';
import { RecordEvents } from './queue/record-events';
import { JobIntake } from './queue/intake';
import { queuePrefix } from './queue/keys';
import { Submitters, createSubmitters } from './submit/submitters';
import { MemoryUploadClaims, RedisUploadClaims, UploadClaims } from './submit/upload-claims';
import { ExpiringMap } from './submit/expiring-map';
import { KeyRing } from './security/api-keys';
import { authenticate } from './http/authenticate';
import { concurrencyCap, submitRateLimits } from './http/limits';
import { metricsRoute, requireToken } from './routes/metrics';
import { mediaType } from './http/media-type';
import cors from 'cors';
import { Server as TusServer } from '@tus/server';
import { TusLimits, createTusServer, tusLocker, tusRoutes } from './tus/tus-uploads';

export interface RunningRouter {
  port: number;
  metrics: Metrics;
  /** Stops accepting connections, lets in-flight requests finish within the grace period. */
  stop(graceMs?: number): Promise<void>;
}

function metricsMiddleware(metrics: Metrics) {
  return (req: Request, res: Response, next: NextFunction) => {
    const end = metrics.httpDuration.startTimer();
    res.on('finish', () => {
      const labels = { route: (req.route?.path as string | undefined) ?? 'unmatched', method: req.method, status: String(res.statusCode) };
      metrics.httpRequests.inc(labels);
      end(labels);
    });
    next();
  };
}

/** The long-lived parts a router is made of, shared by its routes. */
export interface RouterServices {
  /** Set once the graceful stop has begun (readiness answers 503). */
  lifecycle?: { draining: boolean };
  metrics: Metrics;
  store?: ObjectStore;
  /** The paths of POST /protect. */
  submitters: Submitters;
  /** How readiness asks the processors whether they serve. */
  readiness: ProcessorReadiness;
  backend: JobBackend;
  uploadClaims: UploadClaims;
  /** API keys, when API_KEYS_FILE is set; none means the router is open. */
  keys?: KeyRing;
  /** Where rate-limit counters live when several routers share them (the queue's Redis). */
  rateLimitRedis?: RedisConnection;
  /** The tus resumable-upload endpoint at /files, with an object store. */
  tus?: TusServer;
  /** Where the store's presigned URLs point (downloads redirect there). */
  storeOrigin?: string;
}

export function createRouterApp(config: RouterConfig, services: RouterServices, log: Logger): express.Express {
  const { metrics, store, backend } = services;
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', config.trustProxy);
  useRequestLog(app, log);
  app.use(requestDeadline(config.requestTimeoutMs));
  app.use(metricsMiddleware(metrics));
  if (config.allowedOrigins.length > 0) {
    app.use(cors({ origin: config.allowedOrigins, exposedHeaders: ['Retry-After', 'RateLimit-Limit', 'RateLimit-Remaining', 'RateLimit-Reset', 'Location'], maxAge: 600 }));
  }
  // /metrics behind its own token answers before the API keys are asked for
  if (config.metricsToken && config.metricsPort === undefined) app.get('/metrics', requireToken(config.metricsToken), metricsRoute(metrics));
  app.use(authenticate(services.keys));
  const limits = limitsFor(config, services);
  app.use(limits.router);
  // One router for every route, busiest first: each layer and sub-router a request passes costs
  // it. A router of its own (not the app) keeps Express's automatic OPTIONS answer (Allow).
  const routes = express.Router();
  protectRoutes(routes, services.submitters);
  jobRoutes(routes, backend);
  uploadRoutes(routes, config, store, services.uploadClaims);
  // tus's own OPTIONS answer (its extensions and limits) needs its routes free of the limits router's
  if (services.tus) tusRoutes(routes, services.tus, limits.tus);
  healthRoutes(routes, { mode: config.mode, retryAfterSeconds: config.retryAfterSeconds, readiness: services.readiness, draining: () => services.lifecycle?.draining ?? false });
  infoRoute(routes, config, { keys: Boolean(services.keys), resumable: Boolean(services.tus) });
  pageRoutes(routes, services.storeOrigin);
  // With keys, /metrics is an operator's: only behind METRICS_TOKEN or on METRICS_PORT, never for any tenant's key
  if (!config.metricsToken && config.metricsPort === undefined && !services.keys) routes.get('/metrics', metricsRoute(metrics));
  app.use(routes);
  app.use((_req: Request, res: Response) => {
    res.status(404).json({ error: 'not found' });
  });
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    // Express fails to decode a malformed percent-encoding in a path parameter with a URIError
    const httpError = err instanceof URIError ? new HttpError(400, 'malformed percent-encoding in the URL') : toHttpError(err);
    if (res.headersSent) {
      req.log.warn({ err }, 'error after the response started');
      res.destroy();
      return;
    }
    if (!httpError) {
      req.log.error({ err }, 'unexpected error');
      res.status(500).json({ error: 'internal error' });
      return;
    }
    if (httpError.status >= 500) req.log.warn({ err }, 'request failed');
    if (httpError.status === 503) res.setHeader('Retry-After', String(config.retryAfterSeconds));
    // An error answered before the body was read: close rather than drain the rest.
    if (!req.complete) res.setHeader('Connection', 'close');
    res.status(httpError.status).json({ error: httpError.message, ...httpError.extra });
  });
  return app;
}

/**
 * Rate limits on job and upload creation, and caps on uploads in flight and open event
 * streams, per API key (per client address on an open router). The tus endpoint's are
 * mounted on its own routes.
 */
function limitsFor(config: RouterConfig, services: RouterServices): { router: express.Router; tus: TusLimits } {
  const limits = express.Router();
  const retry = config.retryAfterSeconds;
  const uploads = concurrencyCap('uploads', config.maxUploadsPerKey, retry);
  const perMinute = submitRateLimits({
    perMinute: config.submitsPerMinute,
    // an open router has no keys to count: the address gets the per-key limit
    perAddressPerMinute: services.keys ? config.submitsPerMinutePerAddress : config.submitsPerMinute,
    redis: services.rateLimitRedis,
    redisPrefix: config.redisPrefix,
  });
  limits.post('/protect', ...perMinute, (req, res, next) => (mediaType(req.headers['content-type']) === 'multipart/form-data' ? uploads(req, res, next) : next()));
  if (perMinute.length > 0) limits.post('/uploads', ...perMinute);

  limits.get('/jobs/:id/events', concurrencyCap('event streams', config.maxEventStreamsPerKey, retry));
  return { router: limits, tus: { create: [...perMinute, uploads], write: [uploads] } };
}

const SWEEP_INTERVAL_MS = 60 * 60 * 1000;

/** With REDIS_URL or REDIS_CLUSTER_NODES: job records, the dispatch queue, the health breaker and (inline) the dispatcher. */
async function startQueueing(config: RouterConfig, target: RedisTarget, pool: ProcessorPool, store: ObjectStore | undefined, direct: JobBackend, log: Logger) {
  const core = await startDispatchCore(config, target, pool, store, log, config.inlineDispatcher);
  const { redis, records, breaker } = core;
  // On a cluster each intake transaction is followed by a WAIT for a replica, which holds up
  // the connection it runs on: the transactions get one of their own there.
  const entries = target.kind === 'cluster' ? openLoggedRedis(target, 'entries', { maxRetriesPerRequest: 3 }, log) : redis;
  // BullMQ listens to its own connection and re-emits its errors on the queue (logged below).
  const queueConnection = openRedis(target, { maxRetriesPerRequest: 3 });
  const dispatch = new DispatchQueue({
    connection: queueConnection,
    entryConnection: entries,
    prefix: queuePrefix(config.redisPrefix),
    attempts: config.dispatchAttempts,
    backoffMs: config.dispatchBackoffMs,
    retentionSeconds: config.jobRetentionSeconds,
  });
  dispatch.queue.on('error', (err) => log.warn({ err }, 'dispatch queue error'));
  const events = new RecordEvents(openLoggedRedis(target, 'events', {}, log));
  log.info({ redis: describeTarget(target), prefix: config.redisPrefix, dispatcher: config.inlineDispatcher }, 'queueing submits in Redis');
  return {
    queue: { records, intake: new JobIntake(records, dispatch) },
    uploadClaims: new RedisUploadClaims(redis, `${config.redisPrefix}:`, config.retentionDays * 86_400),
    redis,
    breaker,
    backend: new QueuedJobBackend(records, dispatch, events, direct, store),
    close: async () => {
      await core.stop();
      await dispatch.close();
      events.close();
      queueConnection.disconnect();
      if (entries !== redis) entries.disconnect();
      core.disconnect();
    },
  };
}

/**
 * Lifecycle rules where the store takes them, otherwise an hourly sweep of expired objects;
 * and in every case a sweep of incomplete multipart uploads (at start-up, then every
 * STORE_SWEEP_INTERVAL_SECONDS), because a lifecycle rule counts in days and Ceph RGW runs
 * them late: a router killed mid-upload would otherwise leave its parts for a day or more.
 */
async function startRetention(store: ObjectStore, config: RouterConfig, log: Logger): Promise<NodeJS.Timeout[]> {
  const incomplete = setInterval(() => void sweepIncomplete(), config.storeSweepIntervalSeconds * 1000).unref();
  const timers = [incomplete];
  // a resumable (tus) upload, known by its .info companion, may take until its own expiry
  const keepResumable = async (key: string, initiated: Date) => initiated.getTime() > Date.now() - config.tusExpirySeconds * 1000 && (await store.exists(`${key}.info`));
  const sweepIncomplete = () =>
    store
      .abortIncompleteUploads(UPLOAD_PREFIX, new Date(Date.now() - config.incompleteUploadTtlSeconds * 1000), keepResumable)
      .then((aborted) => {
        if (aborted === undefined) {
          clearInterval(incomplete);
          log.info({ bucket: store.bucket }, 'the store cannot list multipart uploads; not sweeping them');
        } else if (aborted > 0) log.info({ aborted }, 'aborted incomplete multipart uploads');
      })
      .catch((err: unknown) => log.warn({ err }, 'incomplete-upload sweep failed'));
  void sweepIncomplete();
  if (await store.applyLifecycle(config.retentionDays, Math.ceil(config.tusExpirySeconds / 86_400))) return timers;
  log.warn({ bucket: store.bucket }, 'the store did not take lifecycle rules (or was unreachable); sweeping expired objects hourly instead');
  const sweep = () =>
    store
      .sweep([UPLOAD_PREFIX, 'jobs/'], new Date(Date.now() - config.retentionDays * 86_400_000))
      .then((deleted) => deleted > 0 && log.info({ deleted }, 'swept expired objects'))
      .catch((err: unknown) => log.warn({ err }, 'retention sweep failed'));
  timers.push(setInterval(sweep, SWEEP_INTERVAL_MS).unref());
  return timers;
}

/** `/metrics` alone on METRICS_PORT (bound to METRICS_HOST), with METRICS_TOKEN when that is set too. */
async function serveMetrics(config: RouterConfig, metrics: Metrics): Promise<http.Server> {
  const app = express();
  app.disable('x-powered-by');
  if (config.metricsToken) app.use(requireToken(config.metricsToken));
  app.get('/metrics', metricsRoute(metrics));
  const server = http.createServer(app);
  server.listen(config.metricsPort, config.metricsHost);
  await once(server, 'listening');
  return server;
}

export async function startRouter(config: RouterConfig, log: Logger): Promise<RunningRouter> {
  const workDir = await openWorkDir(config.workRoot);
  if (workDir.swept > 0) log.info({ swept: workDir.swept, workRoot: config.workRoot }, 'removed the working folders of routers that died');
  const metrics = createMetrics();
  const pool = openProcessorPool(config, metrics);
  const store = openObjectStore(config);
  const sweepers = store ? await startRetention(store, config, log) : [];
  const uploadsByJob = new ExpiringMap<string>(config.retentionDays * 86_400_000);
  const direct: JobBackend = config.mode === 'legacy' ? new LegacyJobBackend(processorHttpApi(config)) : new GrpcJobBackend(pool, uploadsByJob, store, config.presignExpirySeconds);
  const keys = config.apiKeysFile ? new KeyRing(config.apiKeysFile, log) : undefined;
  if (keys) {
    log.info({ file: config.apiKeysFile, keys: keys.size }, 'API keys required on every route but /health*');
    if (!config.metricsToken && config.metricsPort === undefined) log.warn('/metrics is off: with API keys it is served only behind METRICS_TOKEN or on METRICS_PORT');
  } else log.warn('the router is open: no API_KEYS_FILE, so anyone who reaches it can submit, read and cancel jobs (make api-key creates a key)');
  const queueing = config.redis && config.mode !== 'legacy' ? await startQueueing(config, config.redis, pool, store, direct, log) : undefined;
  const uploadClaims = queueing?.uploadClaims ?? new MemoryUploadClaims(config.retentionDays * 86_400_000);
  const locks = store && config.mode !== 'legacy' ? tusLocker(config, queueing?.redis, log) : undefined;
  const tus = store && locks ? createTusServer({ config, store, claims: uploadClaims, locker: locks.locker, workDir: workDir.dir, keysRequired: Boolean(keys), log }) : undefined;
  // the page's CSP names the origin its downloads redirect to: the one presigned URLs carry (AWS's own host when no endpoint is set)
  const storeOrigin = store ? new URL(await store.presignGet(uploadKeyFor('csp-probe'), 60)).origin : undefined;
  const lifecycle = { draining: false };
  const submitters = createSubmitters(config, { pool, metrics, spoolDir: workDir.dir, uploadsByJob, uploadClaims, store, queueing });
  const readiness: ProcessorReadiness = config.mode === 'legacy' ? legacyReadiness(processorHttpApi(config)) : () => pool.health();
  const services: RouterServices = {
    lifecycle,
    uploadClaims,
    keys,
    rateLimitRedis: queueing?.redis,
    metrics,
    store,
    storeOrigin,
    tus: tus?.server,
    backend: queueing?.backend ?? direct,
    submitters,
    readiness,
  };
  const server = createExpressServer(createRouterApp(config, services, log));
  server.requestTimeout = config.requestTimeoutMs;
  server.timeout = config.requestIdleTimeoutMs;
  server.listen(config.port, config.host);
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  const metricsServer = config.metricsPort !== undefined ? await serveMetrics(config, metrics) : undefined;
  log.info({ port, mode: config.mode, processors: config.processorAddrs, metricsPort: metricsServer && (metricsServer.address() as AddressInfo).port }, 'router listening');
  let stopping: Promise<void> | undefined;
  const stop = (graceMs = config.shutdownGraceMs) =>
    (stopping ??= (async () => {
      lifecycle.draining = true;
      if (config.drainDelayMs > 0) {
        log.info({ drainDelayMs: config.drainDelayMs }, 'draining: readiness answers 503 while requests are still served');
        await new Promise((resolve) => setTimeout(resolve, config.drainDelayMs));
      }
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([closed, new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)))]);
      clearTimeout(timer);
      server.closeAllConnections();
      metricsServer?.close();
      keys?.close();
      pool.close();
      sweepers.forEach(clearInterval);
      locks?.close();
      tus?.close();
      await queueing?.close();
      store?.close();
      await workDir.close();
      log.info('router stopped');
    })());
  return { port, metrics, stop };
}

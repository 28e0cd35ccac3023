import { randomUUID } from 'node:crypto';
import { IncomingMessage } from 'node:http';
import { MemoryLocker, Server } from '@tus/server';
import { ERRORS, Locker, Upload } from '@tus/utils';
import { ACCEPTED_TYPES_TEXT, acceptableDeclaredType, safeFileName } from '@artorizer/contract';
import express, { Request, RequestHandler } from 'express';
import { RouterConfig } from '../config';
import { apiKeyOf } from '../http/authenticate';
import { Logger } from '../logger';
import { RedisConnection, openRedis } from '../redis';
import { ObjectStore, UPLOAD_PREFIX } from '../storage/object-store';
import { UploadClaims } from '../submit/upload-claims';
import { RedisLocker } from './redis-locker';
import { settleFinishedUpload } from './settle';
import { UploadDatastore } from './upload-datastore';
import { TUS_PATH, UPLOAD_ID } from './upload-id';

/** A tus error: the library sends `body` with `status_code`. */
const refusal = (status_code: number, body: string) => ({ status_code, body: `${body}\n` });

export interface TusDeps {
  config: RouterConfig;
  store: ObjectStore;
  claims: UploadClaims;
  locker: Locker;
  /** This process's working folder: parts wait there on their way to the store. */
  workDir: string;
  /** API keys are configured: every upload belongs to one. */
  keysRequired: boolean;
  log: Logger;
}

/** The node request behind the library's web Request (the one Express authenticated). */
const nodeRequestOf = (req: globalThis.Request) => (req as unknown as { runtime?: { node?: { req: IncomingMessage } } }).runtime?.node?.req as Request | undefined;

/**
 * The tus 1.0 resumable-upload endpoint (@tus/server with @tus/s3-store): creation,
 * creation-with-upload, termination and expiration, into the router's bucket at the same key
 * a direct upload has (`uploads/<upload_id>`), so a finished upload is submitted like one:
 * `POST /protect {"upload_id": ...}`. The upload's state lives in the store and the locks in
 * Redis, so any router can resume it.
 */
export function createTusServer(deps: TusDeps): { server: Server; close(): void } {
  const { config, store, claims } = deps;
  const idOf = (key: string) => key.slice(UPLOAD_PREFIX.length);
  // the key Express authenticated; with keys on, a request whose node request is not found is refused, never let through
  const keyOf = (req: globalThis.Request) => {
    const node = nodeRequestOf(req);
    if (!node && deps.keysRequired) throw refusal(500, 'internal error');
    return node ? apiKeyOf(node) : undefined;
  };
  const datastore = new UploadDatastore(store, { partBytes: config.tusPartBytes, expiryMs: config.tusExpirySeconds * 1000, tmpDirectory: deps.workDir });
  const server = new Server({
    path: TUS_PATH,
    datastore,
    locker: deps.locker,
    maxSize: config.maxFileBytes,
    respectForwardedHeaders: config.trustProxy !== false,
    allowedOrigins: (origin) => config.allowedOrigins.includes(origin),
    namingFunction: () => `${UPLOAD_PREFIX}${randomUUID()}`,
    generateUrl: (_req, { proto, host, path, id }) => `${proto}://${host}${path}/${idOf(id)}`,
    getFileIdFromRequest: (_req, lastPath) => (lastPath && UPLOAD_ID.test(lastPath) ? `${UPLOAD_PREFIX}${lastPath}` : undefined),
    onIncomingRequest: async (req, id) => {
      if (req.method === 'POST' || req.method === 'OPTIONS') return;
      const key = keyOf(req);
      const standing = key || req.method === 'DELETE' ? await claims.standing(idOf(id)) : undefined;
      // another key's upload is answered as an unknown one
      if (key && standing?.owner !== key.name) throw ERRORS.FILE_NOT_FOUND;
      if (req.method === 'DELETE' && standing?.submitted) throw refusal(409, 'this upload has been submitted as a job; cancel the job instead (DELETE /jobs/:id)');
    },
    onUploadCreate: async (req, upload) => {
      const declared = (upload.metadata?.filetype ?? upload.metadata?.contentType ?? '').toLowerCase() || undefined;
      if (declared !== undefined && !acceptableDeclaredType(declared)) throw refusal(415, `filetype must be an image (${ACCEPTED_TYPES_TEXT}), got "${declared}"`);
      const uploadId = idOf(upload.id);
      await claims.grant(uploadId, keyOf(req)?.name ?? '');
      await claims.setTusState(uploadId, 'open');
      const metadata: Record<string, string | null> = { ...upload.metadata, filename: safeFileName(upload.metadata?.filename ?? undefined) };
      if (declared) metadata.contentType = declared;
      return { metadata };
    },
    onUploadFinish: async (_req, upload: Upload) => {
      if ((await settleFinishedUpload(store, claims, idOf(upload.id))) === 'refused') {
        throw refusal(415, `the uploaded file is not a supported image (${ACCEPTED_TYPES_TEXT}); it has been deleted`);
      }
      return {};
    },
    onResponseError: (_req, err) => {
      if (!('status_code' in err)) deps.log.warn({ err }, 'tus request failed');
      return undefined;
    },
  });
  return { server, close: () => datastore.close() };
}

/** What runs ahead of the tus requests that create an upload (rate limits, upload caps) and that write to one (caps). */
export interface TusLimits {
  create: RequestHandler[];
  write: RequestHandler[];
}

/**
 * Mounts the tus endpoint: POST, HEAD, PATCH, DELETE and OPTIONS only (no GET: uploads are
 * read by processors through the store, never served back from here).
 */
export function tusRoutes(router: express.IRouter, server: Server, limits: TusLimits): void {
  const handle: RequestHandler = (req, res, next) => {
    server.handle(req, res).catch(next);
  };
  router.post(TUS_PATH, ...limits.create, handle);
  router.options(TUS_PATH, handle);
  router.options(`${TUS_PATH}/:id`, handle);
  router.head(`${TUS_PATH}/:id`, handle);
  router.patch(`${TUS_PATH}/:id`, ...limits.write, handle);
  router.delete(`${TUS_PATH}/:id`, handle);
}

export { TUS_PATH };

/** Upload locks: in Redis when routers share one (an upload may resume through any of them), else in this process. */
export function tusLocker(config: RouterConfig, redis: RedisConnection | undefined, log: Logger): { locker: Locker; close(): void } {
  if (!redis || !config.redis) return { locker: new MemoryLocker(), close: () => undefined };
  const subscriber = openRedis(config.redis, { maxRetriesPerRequest: null }).on('error', (err) => log.warn({ err, connection: 'tus-locks' }, 'redis connection error'));
  const locker = new RedisLocker(redis, subscriber, { prefix: `${config.redisPrefix}:`, ttlMs: LOCK_TTL_MS, acquireTimeoutMs: LOCK_ACQUIRE_TIMEOUT_MS });
  locker.start((err) => log.warn({ err }, 'could not subscribe to tus lock release requests'));
  return { locker, close: () => subscriber.disconnect() };
}

/** A router killed mid-upload holds its lock this long at most; the resuming client waits that out. */
const LOCK_TTL_MS = 6000;
/** Longer than the TTL, so a dead holder's lock always lapses before the waiter gives up. */
const LOCK_ACQUIRE_TIMEOUT_MS = 20_000;

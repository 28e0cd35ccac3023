import { IncomingMessage } from 'node:http';
import { RouterConfig } from '../config';
import { ProcessorPool } from '../grpc/processor-pool';
import { Metrics } from '../metrics';
import { ObjectStore } from '../storage/object-store';
import { autoPath } from './auto-path';
import { NO_UPLOAD_IDS, UploadIdPath } from './by-upload-id';
import { UrlPath, queuedUrl, submittedUrl } from './by-url';
import { ExpiringMap } from './expiring-map';
import { LegacyPath, legacyUrl } from './legacy-path';
import { processorHttpApi } from '../legacy/processor-http-api';
import { Breaker, MultipartPath, NO_BREAKER, NamedImagePath } from './paths';
import { QueuedObjects } from './queued-objects';
import { JobQueue } from './queued';
import { StoredPath } from './stored-path';
import { StreamPath } from './stream-path';
import { SubmittedObjects } from './submitted-objects';
import { UploadClaims } from './upload-claims';
import { relayBuffers } from '../upload/stream-relay';

/** The paths of POST /protect, each chosen once when the router is assembled. */
export interface Submitters {
  /** The path of a multipart upload: TRANSFER_MODE's, or in `auto` mode the one chosen for this request. */
  multipartPath(req: IncomingMessage): MultipartPath;
  byUploadId: NamedImagePath;
  byUrl: NamedImagePath;
}

/** What the submit paths are built from; which of them exist decides which paths are built. */
export interface SubmitParts {
  pool: ProcessorPool;
  metrics: Metrics;
  /** Where uploads whose metadata comes after the file wait (this process's working folder). */
  spoolDir: string;
  /** The upload object of each job submitted without a queue (see SubmittedObjects). */
  uploadsByJob: ExpiringMap<string>;
  /** Direct-upload grants, each consumed by one submit. */
  uploadClaims: UploadClaims;
  store?: ObjectStore;
  /** With REDIS_URL: submits whose image needs no router bytes are queued, and the breaker says when no processor serves. */
  queueing?: { queue: JobQueue; breaker: Breaker };
}

export function createSubmitters(config: RouterConfig, parts: SubmitParts): Submitters {
  const { pool, metrics, store, queueing } = parts;
  const breaker = queueing?.breaker ?? NO_BREAKER;
  const relayLimits = { metrics, maxFileBytes: config.maxFileBytes, chunkBytes: config.chunkBytes };
  const references = { s3Reference: config.s3Reference, presignExpirySeconds: config.presignExpirySeconds };
  const objects = store && (queueing ? new QueuedObjects(store, queueing.queue) : new SubmittedObjects(store, pool, parts.uploadsByJob, references, config.maxFileBytes));
  const stream = new StreamPath({ ...relayLimits, pool, spoolDir: parts.spoolDir, buffers: relayBuffers(config.chunkBytes) }, breaker);
  const stored = objects && new StoredPath({ ...relayLimits, store: objects.store }, objects);
  const storedFor = (mode: string): MultipartPath => {
    if (!stored) throw new Error(`TRANSFER_MODE=${mode} needs an object store`);
    return stored;
  };
  const fixed = (path: MultipartPath) => () => path;
  const multipartPaths: Record<RouterConfig['mode'], () => (req: IncomingMessage) => MultipartPath> = {
    legacy: () => fixed(new LegacyPath({ api: processorHttpApi(config), maxFileBytes: config.maxFileBytes, metrics })),
    stream: () => fixed(stream),
    s3: () => fixed(storedFor('s3')),
    direct: () => fixed(storedFor('direct')),
    auto: () => autoPath({ stream, stored: storedFor('auto') }, breaker, config.autoS3ThresholdBytes),
  };
  return {
    multipartPath: multipartPaths[config.mode](),
    byUploadId: objects ? new UploadIdPath(parts.uploadClaims, objects) : NO_UPLOAD_IDS,
    byUrl: new UrlPath(config.imageUrlAllowlist, config.mode === 'legacy' ? legacyUrl(processorHttpApi(config)) : queueing ? queuedUrl(queueing.queue) : submittedUrl(pool)),
  };
}

import { IncomingMessage } from 'node:http';
import express, { Request } from 'express';
import { jobStatusName } from '@artorizer/contract';
import { CallContext } from '../core/call-context';
import { callContext } from '../http/context';
import { isServiceError } from '../grpc/service-error';
import { HttpError } from '../http/errors';
import { readJsonBody } from '../http/json-body';
import { mediaType } from '../http/media-type';
import { Accepted, SubmitDeps, storeUnavailable } from '../submit/deps';
import { submitImageUrl } from '../submit/by-url';
import { submitStored, submitUploadId } from '../submit/stored';
import { relayLegacy } from '../upload/legacy-relay';
import { relayToStore } from '../upload/s3-relay';
import { relayMultipart } from '../upload/stream-relay';

type Path = 'stream' | 's3' | 'legacy';

/** Largest JSON body of POST /protect (the metadata fields; the image is never in it). */
const JSON_BODY_LIMIT = 1024 * 1024;

/**
 * Which path a multipart upload takes. `auto` streams to a processor, the fastest path at
 * every size measured; it stores the upload and queues the job when no processor serves and
 * there is a queue to hold it (so the client gets its 202 through an outage), and from
 * AUTO_S3_THRESHOLD up when that is set.
 */
export function pathFor(req: IncomingMessage, deps: SubmitDeps): Path {
  const { mode, autoS3ThresholdBytes } = deps.config;
  if (mode === 'legacy' || mode === 'stream') return mode;
  if (mode === 's3' || mode === 'direct') return 's3';
  if (deps.queue && deps.breaker?.open) return 's3';
  if (autoS3ThresholdBytes === undefined) return 'stream';
  const declared = Number(req.headers['content-length'] ?? NaN);
  return Number.isFinite(declared) && declared >= autoS3ThresholdBytes ? 's3' : 'stream';
}

/** Image named without bytes in the request: an upload id (direct) or a URL. */
function submitByName(fields: Record<string, unknown>, deps: SubmitDeps, ctx: CallContext): Promise<Accepted> {
  const uploadId = fields.upload_id ?? fields.uploadId;
  if (uploadId !== undefined && uploadId !== '') return submitUploadId(uploadId, fields, deps, ctx);
  const url = fields.image_url ?? fields.imageUrl;
  if (url !== undefined && url !== '') return submitImageUrl(url, fields, deps, ctx);
  throw new HttpError(400, 'an image is required: upload a file in field "image", or give image_url or upload_id', { field: 'image' });
}

async function submitMultipart(req: Request, deps: SubmitDeps, ctx: CallContext): Promise<Accepted> {
  const path = pathFor(req, deps);
  if (path === 'legacy') {
    const outcome = await relayLegacy(req, { processorHttpUrl: deps.config.processorHttpUrl, maxFileBytes: deps.config.maxFileBytes, metrics: deps.metrics }, ctx);
    return outcome.kind === 'job' ? outcome.job : submitByName(outcome.fields, deps, ctx);
  }
  if (path === 's3') {
    let outcome: Awaited<ReturnType<typeof relayToStore>>;
    try {
      outcome = await relayToStore(req, { store: deps.store!, metrics: deps.metrics, maxFileBytes: deps.config.maxFileBytes, chunkBytes: deps.config.chunkBytes });
    } catch (err) {
      if (err instanceof HttpError || isServiceError(err)) throw err;
      throw storeUnavailable(err);
    }
    return outcome.kind === 'stored' ? submitStored(outcome.upload, outcome.fields, deps, ctx) : submitByName(outcome.fields, deps, ctx);
  }
  if (deps.breaker?.open) {
    throw new HttpError(503, 'no processor is serving; retry later', { grpc_code: 'UNAVAILABLE' });
  }
  const outcome = await relayMultipart(req, { ...deps.config, spoolDir: deps.spoolDir, pool: deps.pool, metrics: deps.metrics }, ctx);
  return outcome.kind === 'job' ? { job_id: outcome.job.jobId, status: jobStatusName(outcome.job.state) } : submitByName(outcome.fields, deps, ctx);
}

export function protectRoutes(router: express.IRouter, deps: SubmitDeps): void {
  router.post('/protect', async (req, res) => {
    const ctx = callContext(req);
    let accepted: Accepted;
    const type = mediaType(req.headers['content-type']);
    if (type === 'multipart/form-data') {
      accepted = await submitMultipart(req, deps, ctx);
    } else if (type === 'application/json') {
      const body = await readJsonBody(req, JSON_BODY_LIMIT);
      if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new HttpError(400, 'JSON body must be an object');
      accepted = await submitByName(body as Record<string, unknown>, deps, ctx);
    } else {
      throw new HttpError(415, 'Content-Type must be multipart/form-data or application/json');
    }
    res.status(202).json(accepted);
  });
}

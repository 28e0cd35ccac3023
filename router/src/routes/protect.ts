import express, { Request, Response } from 'express';
import { FieldError, JobSpec, jobSpecFromFields, jobStatusName } from '@artorizer/contract';
import { RouterConfig } from '../config';
import { CallContext, ProcessorPool } from '../grpc/processor-pool';
import { callContext } from '../http/context';
import { HttpError } from '../http/errors';
import { Metrics } from '../metrics';
import { UrlRejectedError, resolveFinalUrl } from '../security/url-guard';
import { relayLegacy } from '../upload/legacy-relay';
import { relayMultipart } from '../upload/stream-relay';

export interface ProtectDeps {
  config: RouterConfig;
  pool: ProcessorPool;
  metrics: Metrics;
}

interface Accepted {
  job_id: string;
  status: string;
}

function specOrBadRequest(fields: Record<string, unknown>): JobSpec {
  try {
    return jobSpecFromFields(fields);
  } catch (err) {
    if (err instanceof FieldError) throw new HttpError(400, err.message, { field: err.field });
    throw err;
  }
}

/** JSON or multipart without a file: the image is named by `image_url` and fetched by the processor. */
async function submitImageUrl(fields: Record<string, unknown>, deps: ProtectDeps, ctx: CallContext): Promise<Accepted> {
  const url = fields.image_url ?? fields.imageUrl;
  if (url === undefined || url === '') {
    throw new HttpError(400, 'an image is required: upload a file in field "image" or give image_url', { field: 'image' });
  }
  if (typeof url !== 'string') throw new HttpError(400, 'image_url must be a string', { field: 'image_url' });
  const spec = specOrBadRequest(fields);
  let finalUrl: string;
  try {
    finalUrl = await resolveFinalUrl(url, { allowlist: deps.config.imageUrlAllowlist });
  } catch (err) {
    if (err instanceof UrlRejectedError) throw new HttpError(400, err.message, { field: 'image_url' });
    throw err;
  }
  if (deps.config.mode === 'legacy') return submitLegacyUrl(fields, finalUrl, deps, ctx);
  const job = await deps.pool.submitByReference(spec, { location: { $case: 'http', http: { url: finalUrl } } }, ctx);
  return { job_id: job.jobId, status: jobStatusName(job.state) };
}

async function submitLegacyUrl(fields: Record<string, unknown>, url: string, deps: ProtectDeps, ctx: CallContext): Promise<Accepted> {
  let res: globalThis.Response;
  try {
    res = await fetch(`${deps.config.processorHttpUrl}/v1/jobs`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'x-request-id': ctx.requestId },
      body: JSON.stringify({ ...fields, imageUrl: undefined, image_url: url }),
      signal: AbortSignal.timeout(deps.config.grpcDeadlineMs),
    });
  } catch (err) {
    throw new HttpError(503, 'processor unavailable, retry later', {}, { cause: err });
  }
  const answer = (await res.json().catch(() => ({}))) as { job_id?: string; status?: string; error?: string };
  if (res.status !== 202 || !answer.job_id) throw new HttpError(res.status >= 500 ? 502 : res.status, answer.error ?? 'processor refused the job');
  return { job_id: answer.job_id, status: answer.status ?? 'queued' };
}

export function protectRoutes(deps: ProtectDeps): express.Router {
  const router = express.Router();
  const json = express.json({ limit: '1mb' });

  router.post('/protect', async (req: Request, res: Response) => {
    const ctx = callContext(req);
    let accepted: Accepted;
    if (req.is('multipart/form-data')) {
      const outcome =
        deps.config.mode === 'legacy'
          ? await relayLegacy(req, { processorHttpUrl: deps.config.processorHttpUrl, maxFileBytes: deps.config.maxFileBytes, metrics: deps.metrics }, ctx)
          : await relayMultipart(req, { ...deps.config, maxFileBytes: deps.config.maxFileBytes, pool: deps.pool, metrics: deps.metrics }, ctx);
      if (outcome.kind === 'fields') accepted = await submitImageUrl(outcome.fields, deps, ctx);
      else if ('jobId' in outcome.job) accepted = { job_id: outcome.job.jobId, status: jobStatusName(outcome.job.state) };
      else accepted = outcome.job;
    } else if (req.is('application/json')) {
      await new Promise<void>((resolve, reject) => json(req, res, (err?: unknown) => (err ? reject(err) : resolve())));
      const body: unknown = req.body;
      if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new HttpError(400, 'JSON body must be an object');
      accepted = await submitImageUrl(body as Record<string, unknown>, deps, ctx);
    } else {
      throw new HttpError(415, 'Content-Type must be multipart/form-data or application/json');
    }
    res.status(202).json(accepted);
  });
  return router;
}

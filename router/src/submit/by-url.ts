import { jobStatusName } from '@artorizer/contract';
import { CallContext } from '../core/call-context';
import { HttpError } from '../http/errors';
import { UrlRejectedError, resolveFinalUrl } from '../security/url-guard';
import { Accepted, SubmitDeps, specOrBadRequest } from './deps';
import { enqueueJob } from './queued';

/** `image_url`: vetted here (address, DNS, redirects), then fetched by the processor. */
export async function submitImageUrl(url: unknown, fields: Record<string, unknown>, deps: SubmitDeps, ctx: CallContext): Promise<Accepted> {
  if (typeof url !== 'string') throw new HttpError(400, 'image_url must be a string', { field: 'image_url' });
  const spec = specOrBadRequest(fields, ctx);
  let finalUrl: string;
  try {
    finalUrl = await resolveFinalUrl(url, { allowlist: deps.config.imageUrlAllowlist });
  } catch (err) {
    if (err instanceof UrlRejectedError) throw new HttpError(400, err.message, { field: 'image_url' });
    throw err;
  }
  if (deps.config.mode === 'legacy') return submitLegacyUrl(fields, finalUrl, deps, ctx);
  if (deps.queue) return (await enqueueJob(spec, { kind: 'url', url: finalUrl }, deps)).accepted;
  const job = await deps.pool.submitByReference(spec, { location: { $case: 'http', http: { url: finalUrl } } }, ctx);
  return { job_id: job.jobId, status: jobStatusName(job.state) };
}

async function submitLegacyUrl(fields: Record<string, unknown>, url: string, deps: SubmitDeps, ctx: CallContext): Promise<Accepted> {
  let res: Response;
  try {
    res = await fetch(`${deps.config.processorHttpUrl}/v1/jobs`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'x-request-id': ctx.requestId },
      body: JSON.stringify({ ...fields, imageUrl: undefined, image_url: url }),
      signal: AbortSignal.timeout(deps.config.processorHttpTimeoutMs),
    });
  } catch (err) {
    throw new HttpError(503, 'processor unavailable, retry later', {}, { cause: err });
  }
  const answer = (await res.json().catch(() => ({}))) as { job_id?: string; status?: string; error?: string };
  if (res.status !== 202 || !answer.job_id) throw new HttpError(res.status >= 500 ? 502 : res.status, answer.error ?? 'processor refused the job');
  return { job_id: answer.job_id, status: answer.status ?? 'queued' };
}

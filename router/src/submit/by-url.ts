import { JobSpec } from '@artorizer/contract';
import { CallContext } from '../core/call-context';
import { ProcessorPool } from '../grpc/processor-pool';
import { HttpError } from '../http/errors';
import { UrlRejectedError, resolveFinalUrl } from '../security/url-guard';
import { Accepted, acceptedJob } from './accepted';
import { NamedImagePath } from './paths';
import { JobQueue, enqueueJob } from './queued';
import { specOrBadRequest } from './spec';

/** Where the job of a vetted image URL goes: the queue, a processor by reference, or the legacy HTTP API (which takes the fields). */
export type UrlHandoff = (url: string, spec: JobSpec, fields: Record<string, unknown>, ctx: CallContext) => Promise<Accepted>;

/** `image_url`: vetted here (address, DNS, redirects), then fetched by the processor. */
export class UrlPath implements NamedImagePath {
  constructor(
    private readonly allowlist: string[],
    private readonly handoff: UrlHandoff,
  ) {}

  async submit(url: unknown, fields: Record<string, unknown>, ctx: CallContext): Promise<Accepted> {
    if (typeof url !== 'string') throw new HttpError(400, 'image_url must be a string', { field: 'image_url' });
    const spec = specOrBadRequest(fields, ctx);
    let finalUrl: string;
    try {
      finalUrl = await resolveFinalUrl(url, { allowlist: this.allowlist });
    } catch (err) {
      if (err instanceof UrlRejectedError) throw new HttpError(400, err.message, { field: 'image_url' });
      throw err;
    }
    return this.handoff(finalUrl, spec, fields, ctx);
  }
}

/** With a queue: the job is recorded and queued; the dispatcher submits it. */
export function queuedUrl(queue: JobQueue): UrlHandoff {
  return async (url, spec) => (await enqueueJob(spec, { kind: 'url', url }, queue)).accepted;
}

/** Without a queue: submitted to a processor now (SubmitJobByReference). */
export function submittedUrl(pool: ProcessorPool): UrlHandoff {
  return async (url, spec, _fields, ctx) => acceptedJob(await pool.submitByReference(spec, { location: { $case: 'http', http: { url } } }, ctx));
}

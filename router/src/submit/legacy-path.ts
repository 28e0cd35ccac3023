import { IncomingMessage } from 'node:http';
import { CallContext } from '../core/call-context';
import { HttpError } from '../http/errors';
import { LegacyRelayDeps, relayLegacy } from '../upload/legacy-relay';
import { Accepted } from './accepted';
import { UrlHandoff } from './by-url';
import { FormOutcome, MultipartPath } from './paths';

/** `legacy`: the upload is buffered, then re-posted to the processor's HTTP API (`POST /v1/jobs`). */
export class LegacyPath implements MultipartPath {
  constructor(private readonly relay: LegacyRelayDeps) {}

  async submit(req: IncomingMessage, ctx: CallContext): Promise<FormOutcome> {
    const outcome = await relayLegacy(req, this.relay, ctx);
    return outcome.kind === 'job' ? { kind: 'accepted', accepted: outcome.job } : outcome;
  }
}

/** `legacy`: an image URL goes to the processor's HTTP API with the client's fields. */
export function legacyUrl(processorHttpUrl: string, timeoutMs: number): UrlHandoff {
  return async (url, _spec, fields, ctx): Promise<Accepted> => {
    let res: Response;
    try {
      res = await fetch(`${processorHttpUrl}/v1/jobs`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'x-request-id': ctx.requestId },
        body: JSON.stringify({ ...fields, imageUrl: undefined, image_url: url }),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      throw new HttpError(503, 'processor unavailable, retry later', {}, { cause: err });
    }
    const answer = (await res.json().catch(() => ({}))) as { job_id?: string; status?: string; error?: string };
    if (res.status !== 202 || !answer.job_id) throw new HttpError(res.status >= 500 ? 502 : res.status, answer.error ?? 'processor refused the job');
    return { job_id: answer.job_id, status: answer.status ?? 'queued' };
  };
}

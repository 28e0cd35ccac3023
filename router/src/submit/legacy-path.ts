import { IncomingMessage } from 'node:http';
import { CallContext } from '../core/call-context';
import { ProcessorHttpApi } from '../legacy/processor-http-api';
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
export function legacyUrl(api: ProcessorHttpApi): UrlHandoff {
  return (url, _spec, fields, ctx): Promise<Accepted> => api.submit(JSON.stringify({ ...fields, imageUrl: undefined, image_url: url }), ctx, true);
}

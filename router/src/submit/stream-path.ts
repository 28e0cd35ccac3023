import { IncomingMessage } from 'node:http';
import { CallContext } from '../core/call-context';
import { HttpError } from '../http/errors';
import { StreamRelayDeps, relayMultipart } from '../upload/stream-relay';
import { acceptedJob } from './accepted';
import { Breaker, FormOutcome, MultipartPath } from './paths';

/** `stream`: the upload's bytes go to a processor in a SubmitJob stream as they arrive. */
export class StreamPath implements MultipartPath {
  constructor(
    private readonly relay: StreamRelayDeps,
    private readonly breaker: Breaker,
  ) {}

  async submit(req: IncomingMessage, ctx: CallContext): Promise<FormOutcome> {
    if (this.breaker.open) throw new HttpError(503, 'no processor is serving; retry later', { grpc_code: 'UNAVAILABLE' });
    const outcome = await relayMultipart(req, this.relay, ctx);
    return outcome.kind === 'job' ? { kind: 'accepted', accepted: acceptedJob(outcome.job) } : outcome;
  }
}

import { IncomingMessage } from 'node:http';
import { Breaker, MultipartPath } from './paths';

/**
 * `auto`: a multipart upload streams to a processor, the fastest path at every size measured;
 * it is stored and its job queued when no processor serves and there is a queue to hold it (the
 * breaker, which only a router with a queue has, is open: the client gets its 202 through an
 * outage), and from AUTO_S3_THRESHOLD up when that is set.
 */
export function autoPath(paths: { stream: MultipartPath; stored: MultipartPath }, breaker: Breaker, thresholdBytes: number | undefined): (req: IncomingMessage) => MultipartPath {
  return (req) => {
    if (breaker.open) return paths.stored;
    if (thresholdBytes === undefined) return paths.stream;
    const declared = Number(req.headers['content-length'] ?? NaN);
    return Number.isFinite(declared) && declared >= thresholdBytes ? paths.stored : paths.stream;
  };
}

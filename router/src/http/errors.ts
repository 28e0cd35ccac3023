import { ServiceError, status as GrpcStatus } from '@grpc/grpc-js';
import { httpStatusFromGrpc, isClientFacing } from '@artorizer/contract';
import { isServiceError } from '../grpc/service-error';

/** An error with the HTTP status and client-facing message it should produce. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly extra: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'HttpError';
  }
}

/** The one place gRPC failures become HTTP answers. */
export function fromGrpc(err: ServiceError): HttpError {
  const status = httpStatusFromGrpc(err.code);
  const message = isClientFacing(err.code) ? err.details || 'processor error' : 'processor error';
  const extra = { grpc_code: GrpcStatus[err.code] };
  if (err.code === GrpcStatus.UNAVAILABLE) return new HttpError(503, 'processor unavailable, retry later', extra, { cause: err });
  return new HttpError(status, message, extra, { cause: err });
}

export function toHttpError(err: unknown): HttpError | undefined {
  if (err instanceof HttpError) return err;
  if (isServiceError(err)) return fromGrpc(err);
  return undefined;
}

/** A store failure that is not the client's fault: 503 so clients retry. */
export function storeUnavailable(err: unknown): HttpError {
  return new HttpError(503, 'object store unavailable, retry later', {}, { cause: err });
}

/** A failure of work on the store: HTTP and gRPC errors as they are, anything else the store's 503. */
export function asStoreFailure(err: unknown): unknown {
  return err instanceof HttpError || isServiceError(err) ? err : storeUnavailable(err);
}

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

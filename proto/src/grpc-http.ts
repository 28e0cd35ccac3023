import { status as GrpcStatus } from '@grpc/grpc-js';

/** One table from gRPC status codes to HTTP statuses, used by every HTTP surface. */
export const HTTP_STATUS_BY_GRPC_CODE: Record<GrpcStatus, number> = {
  [GrpcStatus.OK]: 200,
  [GrpcStatus.CANCELLED]: 499,
  [GrpcStatus.UNKNOWN]: 500,
  [GrpcStatus.INVALID_ARGUMENT]: 400,
  [GrpcStatus.DEADLINE_EXCEEDED]: 504,
  [GrpcStatus.NOT_FOUND]: 404,
  [GrpcStatus.ALREADY_EXISTS]: 409,
  [GrpcStatus.PERMISSION_DENIED]: 403,
  [GrpcStatus.RESOURCE_EXHAUSTED]: 413,
  [GrpcStatus.FAILED_PRECONDITION]: 409,
  [GrpcStatus.ABORTED]: 409,
  [GrpcStatus.OUT_OF_RANGE]: 400,
  [GrpcStatus.UNIMPLEMENTED]: 501,
  [GrpcStatus.INTERNAL]: 500,
  [GrpcStatus.UNAVAILABLE]: 503,
  [GrpcStatus.DATA_LOSS]: 422,
  [GrpcStatus.UNAUTHENTICATED]: 401,
};

export function httpStatusFromGrpc(code: GrpcStatus): number {
  return HTTP_STATUS_BY_GRPC_CODE[code] ?? 500;
}

/** Codes whose message is written for the client; others reach clients as a generic message. */
const CLIENT_FACING = new Set<GrpcStatus>([
  GrpcStatus.CANCELLED,
  GrpcStatus.INVALID_ARGUMENT,
  GrpcStatus.NOT_FOUND,
  GrpcStatus.ALREADY_EXISTS,
  GrpcStatus.RESOURCE_EXHAUSTED,
  GrpcStatus.FAILED_PRECONDITION,
  GrpcStatus.OUT_OF_RANGE,
  GrpcStatus.DATA_LOSS,
  GrpcStatus.UNAVAILABLE,
  GrpcStatus.DEADLINE_EXCEEDED,
]);

/**
 * Codes after which the same call may succeed later or on another processor: the only
 * retry set (UNAVAILABLE is also a processor's "busy"; RESOURCE_EXHAUSTED, an image over
 * the size limit, is never retried).
 */
export const RETRYABLE_GRPC_CODES: ReadonlySet<GrpcStatus> = new Set([GrpcStatus.UNAVAILABLE, GrpcStatus.DEADLINE_EXCEEDED]);

export function isClientFacing(code: GrpcStatus): boolean {
  return CLIENT_FACING.has(code);
}

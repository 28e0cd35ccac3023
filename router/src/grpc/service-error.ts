import { Metadata, ServiceError, status as GrpcStatus } from '@grpc/grpc-js';

/** A failed gRPC call's error (grpc-js gives it a numeric `code` and `details`). */
export function isServiceError(err: unknown): err is ServiceError {
  return err instanceof Error && typeof (err as Partial<ServiceError>).code === 'number' && 'details' in err;
}

/** A failure of the router's own making in the shape grpc-js gives a failed call (its message too: "14 UNAVAILABLE: ..."). */
export function serviceError(code: GrpcStatus, details: string): ServiceError {
  return Object.assign(new Error(`${code} ${GrpcStatus[code]}: ${details}`), { code, details, metadata: new Metadata() });
}

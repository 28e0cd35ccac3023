import { ServiceError } from '@grpc/grpc-js';

/** A failed gRPC call's error (grpc-js gives it a numeric `code` and `details`). */
export function isServiceError(err: unknown): err is ServiceError {
  return err instanceof Error && typeof (err as Partial<ServiceError>).code === 'number' && 'details' in err;
}

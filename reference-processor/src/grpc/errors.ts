import { Metadata, ServiceError, status as GrpcStatus } from '@grpc/grpc-js';
import { ProcessorError } from '../core/errors';
import { Logger } from '../logger';

export type StatusObject = Partial<ServiceError> & { code: GrpcStatus; details: string };

/** A ProcessorError keeps its code and message; anything else is logged and reported as INTERNAL. */
export function toStatus(err: unknown, log: Logger, context: Record<string, unknown> = {}): StatusObject {
  if (err instanceof ProcessorError) return { code: err.code, details: err.message, metadata: new Metadata() };
  log.error({ err, ...context }, 'unexpected error in gRPC handler');
  return { code: GrpcStatus.INTERNAL, details: 'internal processor error', metadata: new Metadata() };
}

export function requestId(metadata: Metadata): string | undefined {
  const value = metadata.get('x-request-id')[0];
  return typeof value === 'string' ? value : undefined;
}

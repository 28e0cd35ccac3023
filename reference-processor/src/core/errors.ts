import { status as GrpcStatus } from '@grpc/grpc-js';
import { ACCEPTED_TYPES_TEXT } from '@artorizer/contract';
import { exceedsMaximumSize } from '@artorizer/service-kit';

/** A failure with a gRPC status code and a message written for the client. */
export class ProcessorError extends Error {
  constructor(
    readonly code: GrpcStatus,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ProcessorError';
  }
}

export const invalidArgument = (message: string) => new ProcessorError(GrpcStatus.INVALID_ARGUMENT, message);
export const notFound = (message: string) => new ProcessorError(GrpcStatus.NOT_FOUND, message);
export const failedPrecondition = (message: string) => new ProcessorError(GrpcStatus.FAILED_PRECONDITION, message);
/** The image is over the size limit: RESOURCE_EXHAUSTED, which means that and only that here (not retryable). */
export class ImageTooLargeError extends ProcessorError {
  constructor(readonly maxBytes: number) {
    super(GrpcStatus.RESOURCE_EXHAUSTED, exceedsMaximumSize(maxBytes));
    this.name = 'ImageTooLargeError';
  }
}
/**
 * The image is not of a type the processor accepts (SVG, or no raster type at all):
 * INVALID_ARGUMENT over gRPC, 415 on the HTTP API.
 */
export class UnsupportedTypeError extends ProcessorError {
  constructor(declared?: string) {
    super(
      GrpcStatus.INVALID_ARGUMENT,
      declared === undefined
        ? `the file is not a supported image: only ${ACCEPTED_TYPES_TEXT} are accepted`
        : `image type ${JSON.stringify(declared.slice(0, 100))} is not accepted: only ${ACCEPTED_TYPES_TEXT} are`,
    );
    this.name = 'UnsupportedTypeError';
  }
}
export const dataLoss = (message: string) => new ProcessorError(GrpcStatus.DATA_LOSS, message);
/** The processor cannot take work now (shutting down, queue full): UNAVAILABLE, retryable elsewhere or later. */
export const unavailable = (message: string) => new ProcessorError(GrpcStatus.UNAVAILABLE, message);
export const cancelled = (message: string) => new ProcessorError(GrpcStatus.CANCELLED, message);

import { status } from '@grpc/grpc-js';
import { HTTP_STATUS_BY_GRPC_CODE, RETRYABLE_GRPC_CODES, httpStatusFromGrpc } from '../src';

describe('gRPC to HTTP status table', () => {
  const expected: Record<string, number> = {
    OK: 200,
    CANCELLED: 499,
    UNKNOWN: 500,
    INVALID_ARGUMENT: 400,
    DEADLINE_EXCEEDED: 504,
    NOT_FOUND: 404,
    ALREADY_EXISTS: 409,
    PERMISSION_DENIED: 403,
    RESOURCE_EXHAUSTED: 413,
    FAILED_PRECONDITION: 409,
    ABORTED: 409,
    OUT_OF_RANGE: 400,
    UNIMPLEMENTED: 501,
    INTERNAL: 500,
    UNAVAILABLE: 503,
    DATA_LOSS: 422,
    UNAUTHENTICATED: 401,
  };
  const codes = Object.keys(status).filter((k) => Number.isNaN(Number(k))) as (keyof typeof status)[];

  it('covers every gRPC code', () => {
    expect(codes).toHaveLength(17);
    expect(Object.keys(HTTP_STATUS_BY_GRPC_CODE)).toHaveLength(17);
  });

  it.each(codes)('maps %s', (name) => {
    expect(httpStatusFromGrpc(status[name])).toBe(expected[name]);
  });
});

describe('RETRYABLE_GRPC_CODES', () => {
  it('retries a busy or unreachable processor and a deadline, never an image too large', () => {
    expect([...RETRYABLE_GRPC_CODES].sort()).toEqual([status.DEADLINE_EXCEEDED, status.UNAVAILABLE].sort());
    expect(RETRYABLE_GRPC_CODES.has(status.RESOURCE_EXHAUSTED)).toBe(false);
  });
});

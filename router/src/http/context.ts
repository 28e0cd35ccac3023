import { randomUUID } from 'node:crypto';
import { Request } from 'express';
import { CallContext } from '../core/call-context';
import { apiKeyOf } from './authenticate';

const SAFE_ID = /^[\w.:-]{1,128}$/;

/** The request id: the client's X-Request-Id when it is sane, else a new UUID. */
export function requestIdFor(headerValue: string | string[] | undefined): string {
  const value = Array.isArray(headerValue) ? headerValue[0] : headerValue;
  return value && SAFE_ID.test(value) ? value : randomUUID();
}

export function callContext(req: Request): CallContext {
  return { requestId: String(req.id), key: apiKeyOf(req) };
}

import { NextFunction, Request, Response } from 'express';
import { ApiKey, KeyRing } from '../security/api-keys';

const keyOfRequest = new WeakMap<Request, ApiKey>();

/** The API key a request was made with; undefined when the router is open (no keys configured). */
export function apiKeyOf(req: Request): ApiKey | undefined {
  return keyOfRequest.get(req);
}

/** Routes anyone may call, keys or not: health checks, what the router offers, and the page and its assets. */
const PUBLIC = (path: string) => path === '/health' || path.startsWith('/health/') || path === '/info' || path === '/' || path.startsWith('/assets/');

/** The token of an `Authorization: Bearer TOKEN` header, if the request has one. */
export function bearerToken(req: Request): string | undefined {
  return /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '')?.[1];
}

function presentedSecret(req: Request): string | undefined {
  // another scheme (Basic added by a proxy or a browser) does not hide an X-API-Key
  const bearer = bearerToken(req);
  if (bearer) return bearer;
  const header = req.headers['x-api-key'];
  return typeof header === 'string' && header !== '' ? header : undefined;
}

/**
 * With keys configured, every route but the public ones needs `Authorization: Bearer SECRET`
 * or `X-API-Key: SECRET`: 401 with a JSON error otherwise. Without keys, everything is open.
 */
export function authenticate(ring: KeyRing | undefined) {
  return (req: Request, res: Response, next: NextFunction) => {
    if (!ring || PUBLIC(req.path)) return next();
    const secret = presentedSecret(req);
    const key = secret === undefined ? undefined : ring.find(secret);
    if (!key) {
      res.setHeader('WWW-Authenticate', 'Bearer realm="artorizer"');
      if (!req.complete) res.setHeader('Connection', 'close');
      res.status(401).json({ error: secret === undefined ? 'an API key is required: send Authorization: Bearer <key> (or X-API-Key)' : 'this API key is not valid' });
      return;
    }
    keyOfRequest.set(req, key);
    next();
  };
}

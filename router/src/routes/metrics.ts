import { createHash, timingSafeEqual } from 'node:crypto';
import { NextFunction, Request, RequestHandler, Response } from 'express';
import { bearerToken } from '../http/authenticate';
import { Metrics } from '../metrics';

/** Prometheus text of the router's metrics. */
export function metricsRoute(metrics: Metrics): RequestHandler {
  return async (_req: Request, res: Response) => {
    res.setHeader('Content-Type', metrics.registry.contentType);
    res.send(await metrics.registry.metrics());
  };
}

const digest = (text: string) => createHash('sha256').update(text).digest();

/** `Authorization: Bearer TOKEN` or 401, compared in constant time (METRICS_TOKEN). */
export function requireToken(token: string): RequestHandler {
  const expected = digest(token);
  return (req: Request, res: Response, next: NextFunction) => {
    const presented = bearerToken(req);
    if (presented !== undefined && timingSafeEqual(digest(presented), expected)) return next();
    res.setHeader('WWW-Authenticate', 'Bearer realm="metrics"');
    res.status(401).json({ error: 'the metrics token is required: Authorization: Bearer <METRICS_TOKEN>' });
  };
}

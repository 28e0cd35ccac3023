import { Express, NextFunction, Request, Response } from 'express';
import { Logger } from '../logger';
import { requestIdFor } from './context';

declare module 'express-serve-static-core' {
  interface Request {
    /** X-Request-Id: the client's when sane, else a new UUID; also sent to processors. */
    id: string;
    /** A logger bound to the request id. */
    log: Logger;
  }
}

const QUIET = (url: string) => url === '/metrics' || url.startsWith('/health');

/**
 * Request ids and one access log line per request, for one Express app. `req.log` is a getter
 * on the app's request prototype, so the per-request child logger is only made when something
 * logs through it: pino-http built one (serializing the request) on every request, which cost
 * about a sixth of the router's CPU on the submit route even with logging at warn.
 */
export function useRequestLog(app: Express, log: Logger): void {
  const children = new WeakMap<Request, Logger>();
  Object.defineProperty(app.request, 'log', {
    get(this: Request): Logger {
      let child = children.get(this);
      if (!child) children.set(this, (child = log.child({ requestId: this.id })));
      return child;
    },
    configurable: true,
  });
  const accessLog = log.isLevelEnabled('info');
  app.use((req: Request, res: Response, next: NextFunction) => {
    const id = requestIdFor(req.headers['x-request-id']);
    req.id = id;
    res.setHeader('X-Request-Id', id);
    if (accessLog && !QUIET(req.url)) {
      const started = process.hrtime.bigint();
      res.once('close', () => {
        const line = { requestId: id, method: req.method, url: req.originalUrl, status: res.statusCode, responseTimeMs: Number(process.hrtime.bigint() - started) / 1e6 };
        if (!res.writableFinished) log.info(line, 'request aborted before the response was sent');
        else if (res.statusCode >= 500) log.error(line, 'request failed');
        else log.info(line, 'request completed');
      });
    }
    next();
  });
}

import { NextFunction, Request, Response } from 'express';

/**
 * Gives each request `ms` to arrive whole: past it, a 408 (when nothing was answered yet) and
 * the connection closed. Node's own `server.requestTimeout` stops counting once the headers
 * have reached a handler, so a body sent a byte at a time would otherwise hold its socket,
 * and the upload relayed from it, for as long as the client likes.
 */
export function requestDeadline(ms: number) {
  return (req: Request, res: Response, next: NextFunction) => {
    const timer = setTimeout(() => {
      if (req.complete) return;
      if (res.headersSent) {
        req.socket.destroy();
        return;
      }
      res.writeHead(408, { 'Content-Type': 'application/json', Connection: 'close' }).end(JSON.stringify({ error: `the request did not arrive within ${ms / 1000} s` }));
      res.once('finish', () => req.socket.destroy());
    }, ms).unref();
    const done = () => clearTimeout(timer);
    req.once('end', done);
    res.once('close', done);
    next();
  };
}

import http from 'node:http';
import net from 'node:net';
import express from 'express';

type RequestClass = typeof http.IncomingMessage;
type ResponseClass = typeof http.ServerResponse<http.IncomingMessage>;

/**
 * An HTTP server for an Express app whose requests and responses are born with the app's
 * prototypes. Express sets them with Object.setPrototypeOf on every request; on this Node,
 * that made V8 keep each request's objects alive past two young-generation collections, so
 * they went to the old generation: at 1,800 submits/s the router promoted about a third of
 * what it allocated, and the scavenges that copied it paused the event loop for up to 10 ms.
 * With the prototype already right, Express's setPrototypeOf does nothing.
 */
export function createExpressServer(app: express.Express): http.Server {
  function AppRequest(this: unknown, socket: net.Socket): http.IncomingMessage {
    return Reflect.construct(http.IncomingMessage, [socket], AppRequest) as http.IncomingMessage;
  }
  AppRequest.prototype = app.request;
  function AppResponse(this: unknown, req: http.IncomingMessage, options?: http.ServerOptions): http.ServerResponse {
    return Reflect.construct(http.ServerResponse, [req, options], AppResponse) as http.ServerResponse;
  }
  AppResponse.prototype = app.response;
  return http.createServer({ IncomingMessage: AppRequest as unknown as RequestClass, ServerResponse: AppResponse as unknown as ResponseClass }, app);
}

import http from 'node:http';
import express from 'express';

/**
 * An HTTP server for an Express app whose requests and responses are born with the app's
 * prototypes. Express 5 gives every request and response the app's prototypes with
 * Object.setPrototypeOf, which V8 handles slowly: on this machine it made a bare Express
 * route cost about four times the CPU of the same route on objects created with those
 * prototypes, and kept each request's objects alive into the old generation. Here
 * node:http creates them from subclasses whose prototypes are the app's, so Express's
 * setPrototypeOf finds them already right and does nothing.
 */
export function createExpressServer(app: express.Express): http.Server {
  class AppRequest extends http.IncomingMessage {}
  Object.setPrototypeOf(AppRequest.prototype, app.request);
  app.request = AppRequest.prototype as unknown as express.Request;
  class AppResponse extends http.ServerResponse {}
  Object.setPrototypeOf(AppResponse.prototype, app.response);
  app.response = AppResponse.prototype as unknown as express.Response;
  return http.createServer({ IncomingMessage: AppRequest, ServerResponse: AppResponse }, app);
}

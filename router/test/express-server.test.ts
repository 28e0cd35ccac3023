import http from 'node:http';
import { AddressInfo } from 'node:net';
import express from 'express';
import { createExpressServer } from '../src/http/express-server';

/* Requests and responses are born with the app's prototypes, and Express works on them as usual. */
describe('createExpressServer', () => {
  let server: http.Server;
  afterEach(() => new Promise((resolve) => server.close(resolve)));

  it('creates each request and response with the app prototypes, before Express sets them', async () => {
    const app = express();
    app.post('/items/:id', (req, res) => {
      res
        .status(202)
        .set('X-Item', req.params.id)
        .json({ id: req.params.id, type: req.get('content-type') });
    });
    server = createExpressServer(app);
    const seen: boolean[] = [];
    server.prependListener('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
      seen.push(Object.getPrototypeOf(req) === app.request && Object.getPrototypeOf(res) === app.response && req instanceof http.IncomingMessage && res instanceof http.ServerResponse);
    });
    server.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    for (const id of ['a', 'b']) {
      const res = await fetch(`${url}/items/${id}`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'x' });
      expect(res.status).toBe(202);
      expect(res.headers.get('x-item')).toBe(id);
      expect(await res.json()).toEqual({ id, type: 'text/plain' });
    }
    expect(seen).toEqual([true, true]);
  });
});

/**
 * Not a product path: the cheapest relay Node can be, for `make bench` (section 1) and bench/tools/relay-cost.ts. It pipes
 * each request's body, unparsed, to UPSTREAM (the processor's original HTTP API, POST
 * /v1/jobs) on keep-alive connections and pipes the answer back, as nginx with
 * `proxy_request_buffering off` does. PORT and HOST from the environment.
 */
import http from 'node:http';
import { UPSTREAM_IDLE_MS } from './upstream-idle';

const upstream = new URL(process.env.UPSTREAM ?? 'http://127.0.0.1:8000');
// Node's agent follows the server's `Keep-Alive: timeout` hint only when it has a timeout of its own
const agent = new http.Agent({ keepAlive: true, timeout: UPSTREAM_IDLE_MS });

const server = http.createServer((req, res) => {
  const headers: http.OutgoingHttpHeaders = { 'content-type': req.headers['content-type'] };
  if (req.headers['content-length'] !== undefined) headers['content-length'] = req.headers['content-length'];
  const out = http.request({ host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, agent, headers }, (answer) => {
    res.writeHead(answer.statusCode ?? 502, { 'content-type': answer.headers['content-type'] ?? 'application/json' });
    answer.pipe(res);
  });
  out.on('error', (err) => {
    if (res.headersSent) res.destroy(err);
    else res.writeHead(502).end(err.message);
  });
  // a client that hangs up mid-body must not leave the processor waiting for the rest
  res.on('close', () => {
    if (!res.writableFinished) out.destroy();
  });
  req.pipe(out);
});
server.listen(Number(process.env.PORT ?? 0), process.env.HOST ?? '127.0.0.1');
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => server.close(() => process.exit(0)));

import http from 'node:http';
import { once } from 'node:events';
import { AddressInfo } from 'node:net';

/** A small HTTP server the processor fetches references from. */
export interface HttpFixture {
  url(path: string): string;
  /** GET requests to /stall that are being held open (HEAD /stall answers at once). */
  stalled: http.ServerResponse[];
  /** Resolves when the next /stall request arrives. */
  nextStall(): Promise<void>;
  close(): Promise<void>;
}

export async function startHttpFixture(files: Record<string, Buffer>): Promise<HttpFixture> {
  const stalled: http.ServerResponse[] = [];
  const server = http.createServer((req, res) => {
    const name = (req.url ?? '').slice(1);
    if (name === 'stall' && req.method === 'HEAD') {
      res.writeHead(200, { 'Content-Type': 'image/png' }).end();
      return;
    }
    if (name === 'stall') {
      stalled.push(res);
      server.emit('stall');
      return;
    }
    const body = files[name];
    if (!body) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': body.length }).end(body);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  return {
    url: (path) => `http://127.0.0.1:${port}/${path}`,
    stalled,
    nextStall: () => once(server, 'stall').then(() => undefined),
    close: async () => {
      for (const res of stalled) res.destroy();
      server.closeAllConnections();
      server.close();
    },
  };
}

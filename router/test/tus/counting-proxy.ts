import { once } from 'node:events';
import net from 'node:net';

/**
 * A TCP proxy in front of a router that counts the bytes clients send through it (what
 * reached the router), and can stall at a byte count: it forwards exactly that many, stops
 * reading, and resolves, so a test can cut the upload there (abort the client, kill the router).
 */
export interface CountingProxy {
  port: number;
  url: string;
  /** Bytes forwarded from clients to the router so far. */
  readonly forwarded: number;
  stallAt(bytes: number): Promise<void>;
  close(): Promise<void>;
}

export async function startCountingProxy(targetPort: number): Promise<CountingProxy> {
  let forwarded = 0;
  let stall: { at: number; reached: () => void } | undefined;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, '127.0.0.1');
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => {
        sockets.delete(socket);
        client.destroy();
        upstream.destroy();
      });
    }
    upstream.pipe(client);
    client.on('data', (chunk: Buffer) => {
      if (stall && forwarded + chunk.length >= stall.at) {
        const room = stall.at - forwarded;
        if (room > 0) upstream.write(chunk.subarray(0, room));
        forwarded += Math.max(room, 0);
        client.pause();
        client.removeAllListeners('data');
        const { reached } = stall;
        stall = undefined;
        reached();
        return;
      }
      forwarded += chunk.length;
      if (!upstream.write(chunk)) {
        client.pause();
        upstream.once('drain', () => client.resume());
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    get forwarded() {
      return forwarded;
    },
    stallAt: (bytes) => new Promise<void>((reached) => (stall = { at: bytes, reached })),
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

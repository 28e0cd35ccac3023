import http2 from 'node:http2';
import { AddressInfo, Socket } from 'node:net';

/**
 * A bare HTTP/2 server standing in for a processor where a test must decide what goes on the
 * wire and when (trailers held back, a reset, an HTTP error): `onStream` gets each call's stream.
 */
export interface BareGrpcServer {
  address: string;
  /** Closes every connection's socket without a word of HTTP/2, as a processor that crashed. */
  dropConnections(): void;
  /** Closes the listener and every open connection. */
  close(): Promise<void>;
}

/** gRPC's length prefix in front of a message. */
export function grpcFrame(message: Uint8Array): Buffer {
  const frame = Buffer.alloc(5 + message.length);
  frame.writeUInt32BE(message.length, 1);
  frame.set(message, 5);
  return frame;
}

/** The messages in a run of length-prefixed frames. */
export function grpcMessages(bytes: Buffer): Buffer[] {
  const messages: Buffer[] = [];
  for (let at = 0; at + 5 <= bytes.length;) {
    const length = bytes.readUInt32BE(at + 1);
    messages.push(bytes.subarray(at + 5, at + 5 + length));
    at += 5 + length;
  }
  return messages;
}

export async function startBareGrpcServer(onStream: (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => void): Promise<BareGrpcServer> {
  const server = http2.createServer();
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('stream', (stream, headers) => {
    // a stream the test resets errors on this side too: that is the test's doing, not a failure
    stream.on('error', () => undefined);
    onStream(stream, headers);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    address: `127.0.0.1:${port}`,
    dropConnections: () => {
      for (const socket of sockets) socket.destroy();
    },
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

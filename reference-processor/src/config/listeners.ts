import { HOST, adapt, grpcTlsSettings, integer, onOff, section, text } from '@artorizer/service-kit';

/** Where the processor listens, gRPC and the legacy HTTP API. */
export const listenerSettings = section('Listeners', {
  grpcPort: integer({ name: 'GRPC_PORT', default: 50051, min: 0, max: 65535, meaning: 'gRPC port (0 = any free port)' }),
  httpPort: integer({ name: 'HTTP_PORT', default: 8000, min: -1, max: 65535, meaning: 'original HTTP API port (0 = any free port, -1 = off)' }),
  host: adapt(HOST, {
    defaultText: '0.0.0.0 (`make up`: 127.0.0.1)',
    meaning: "gRPC bind address, and the HTTP API's unless `HTTP_HOST` is set; plaintext off loopback logs a warning at start",
  }),
  httpHost: text({ name: 'HTTP_HOST', default: undefined, defaultText: '`HOST`', meaning: 'bind address of the original HTTP API (127.0.0.1 keeps it local while gRPC is exposed)' }),
  httpTls: onOff({
    name: 'HTTP_TLS',
    default: false,
    meaning:
      "`on`: the HTTP API over HTTPS with the same certificate and key, requiring a client certificate from `GRPC_TLS_CA` when that is set (the router's `legacy` mode sends no client certificate: keep the HTTP API on loopback for it)",
  }),
});

export const grpcServerTlsSettings = grpcTlsSettings('server');

import client from 'prom-client';

/** Prometheus metrics of one router process, in their own registry. */
export function createMetrics() {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry });
  return {
    registry,
    httpRequests: new client.Counter({
      name: 'router_http_requests_total',
      help: 'HTTP requests by route, method and status',
      labelNames: ['route', 'method', 'status'] as const,
      registers: [registry],
    }),
    httpDuration: new client.Histogram({
      name: 'router_http_request_duration_seconds',
      help: 'HTTP request latency by route, method and status',
      labelNames: ['route', 'method', 'status'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    bytesRelayed: new client.Counter({
      name: 'router_bytes_relayed_total',
      help: 'Image bytes relayed to processors, by transfer mode',
      labelNames: ['mode'] as const,
      registers: [registry],
    }),
    inflightUploads: new client.Gauge({
      name: 'router_inflight_uploads',
      help: 'Uploads currently being relayed',
      registers: [registry],
    }),
    grpcCalls: new client.Counter({
      name: 'router_grpc_client_calls_total',
      help: 'gRPC calls to processors by method and status code',
      labelNames: ['method', 'code'] as const,
      registers: [registry],
    }),
  };
}
export type Metrics = ReturnType<typeof createMetrics>;

import { integer, list, milliseconds, oneOf, section, text } from '@artorizer/service-kit';
import { z } from 'zod';

const HTTP_URL = 'must be an http:// or https:// URL';

export const TRANSFER_MODES = ['stream', 's3', 'direct', 'auto', 'legacy'] as const;
export type TransferMode = (typeof TRANSFER_MODES)[number];

/** How the router reaches the processors, and how long it waits for them. */
export const processorSettings = section('Processors', {
  mode: oneOf({
    name: 'TRANSFER_MODE',
    choices: TRANSFER_MODES,
    default: undefined,
    defaultText: '`auto` with a store, else `stream`',
    meaning: 'how uploads reach the processor; `s3`, `direct` and `auto` need an object store',
  }),
  processorAddrs: list({
    name: 'PROCESSOR_ADDR',
    default: ['127.0.0.1:50051'],
    emptyMessage: 'must name at least one host:port',
    meaning:
      "processors: a comma list of `host:port` and DNS names (`dns:///processors:50051`, balanced by grpc-js's `round_robin` over every address the name resolves to); new jobs go round-robin between entries",
  }),
  processorHttpUrl: text({
    name: 'PROCESSOR_HTTP_URL',
    default: 'http://127.0.0.1:8000',
    allowed: 'http(s) URL',
    check: z
      .string()
      .refine((url) => URL.canParse(url) && /^https?:$/.test(new URL(url).protocol), HTTP_URL)
      .transform((url) => url.replace(/\/$/, '')),
    meaning: 'processor HTTP API, for `legacy`',
  }),
  processorHttpTimeoutMs: milliseconds({
    name: 'PROCESSOR_HTTP_TIMEOUT_MS',
    default: 5000,
    min: 1,
    meaning:
      "timeout of the router's plain HTTP calls to the processor in `legacy` mode (job status, results, cancels, submits by URL, readiness); uploads relayed whole and downloads are not timed by it",
  }),
  chunkBytes: integer({
    name: 'UPLOAD_CHUNK_SIZE',
    default: 1024 * 1024,
    min: 1024,
    max: 4 * 1024 * 1024 - 1024,
    meaning: 'size of each encoded `SubmitJob` chunk message (1 MiB measured fastest; 64 KiB and 256 KiB tried)',
  }),
  grpcDeadlineMs: milliseconds({ name: 'GRPC_DEADLINE_MS', default: 5000, min: 1, meaning: 'deadline of unary gRPC calls' }),
  grpcStreamDeadlineMs: milliseconds({
    name: 'GRPC_STREAM_DEADLINE_MS',
    default: undefined,
    defaultText: '`REQUEST_TIMEOUT_MS`',
    min: 1000,
    meaning: 'deadline of the streaming gRPC calls: an upload relayed while it arrives, a download, a watch',
  }),
  healthIntervalMs: milliseconds({ name: 'HEALTH_CHECK_INTERVAL_MS', default: 1000, min: 50, meaning: 'processor health checks for the circuit breaker' }),
});

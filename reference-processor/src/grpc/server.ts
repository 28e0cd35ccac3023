import fs from 'node:fs';
import path from 'node:path';
import { Server, ServerCredentials } from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import { ProcessorServiceDefinition, ProcessorServiceServer } from '@artorizer/contract';
import { Processor } from '../core/processor';
import { Logger } from '../logger';
import { downloadArtifact } from './handlers/download-artifact';
import { cancelJob, getJob, getJobResult, submitJobByReference } from './handlers/job-queries';
import { submitJob } from './handlers/submit-job';
import { watchJob } from './handlers/watch-job';
import { addReflection } from './reflection';

/** Compiled descriptors served by reflection, written by `make generate`. */
const DESCRIPTOR_SETS = ['artorizer.binpb', 'health.binpb'].map((name) => path.join(path.dirname(require.resolve('@artorizer/contract/package.json')), 'gen', name));

/**
 * HTTP/2 receive windows. Node's defaults are 64 KiB for the connection and for each stream,
 * and with a 64 KiB stream window a SubmitJob upload crawls: grpc-js pauses the HTTP/2 stream
 * after every decoded message, so the client can have at most 64 KiB in flight and waits for a
 * WINDOW_UPDATE every 32 KiB (thousands of small frames and round trips per 50 MiB).
 * - the connection window is raised per session (`setLocalWindowSize`, it has no setting);
 * - the stream window is SETTINGS_INITIAL_WINDOW_SIZE, announced in the server's first SETTINGS
 *   frame. It also bounds what one upload can have buffered in the processor before the
 *   handler reads it.
 */
const SESSION_WINDOW_BYTES = 16 * 1024 * 1024;
const STREAM_WINDOW_BYTES = 4 * 1024 * 1024;

export interface GrpcServer {
  server: Server;
  health: HealthImplementation;
  port: number;
}

export function createGrpcServer(processor: Processor, log: Logger, chunkBytes: number, maxMessageBytes: number): { server: Server; health: HealthImplementation } {
  const server = new Server({
    'grpc.max_receive_message_length': maxMessageBytes,
    'grpc.keepalive_permit_without_calls': 1,
    'grpc.keepalive_time_ms': 30_000,
  });
  const impl: ProcessorServiceServer = {
    submitJob: submitJob(processor, log),
    submitJobByReference: submitJobByReference(processor, log),
    getJob: getJob(processor, log),
    watchJob: watchJob(processor, log),
    getJobResult: getJobResult(processor, log),
    cancelJob: cancelJob(processor, log),
    downloadArtifact: downloadArtifact(processor, log, chunkBytes),
  };
  server.addService(ProcessorServiceDefinition, impl);
  const health = new HealthImplementation({ '': 'SERVING', 'artorizer.v1.ProcessorService': 'SERVING' });
  health.addToServer(server);
  addReflection(
    server,
    DESCRIPTOR_SETS.map((file) => fs.readFileSync(file)),
  );
  announceStreamWindow(server);
  return { server, health };
}

/**
 * Puts SETTINGS_INITIAL_WINDOW_SIZE into the options grpc-js creates its HTTP/2 servers with
 * (`commonServerOptions`, internal; grpc-js only passes `maxConcurrentStreams` through), so it
 * is in every session's first SETTINGS frame. If that field is gone in a later grpc-js,
 * `bindGrpc` sets it on the bound servers instead (`updateSettings`, for sessions that start
 * after it).
 */
function announceStreamWindow(server: Server): void {
  const internals = server as unknown as { commonServerOptions?: { settings?: Record<string, unknown> } };
  if (!internals.commonServerOptions) return;
  internals.commonServerOptions.settings = { ...internals.commonServerOptions.settings, initialWindowSize: STREAM_WINDOW_BYTES };
}

/**
 * Binds (plaintext unless `credentials` say TLS) and raises each new HTTP/2 session's receive
 * windows so client streams are not throttled.
 */
export function bindGrpc(server: Server, host: string, port: number, credentials = ServerCredentials.createInsecure()): Promise<number> {
  return new Promise((resolve, reject) => {
    server.bindAsync(`${host}:${port}`, credentials, (err, bound) => {
      if (err) reject(err);
      else resolve(bound);
    });
  }).then((bound) => {
    widenSessionWindows(server);
    return bound as number;
  });
}

interface Http2ServerLike {
  on(event: 'session', listener: (session: { setLocalWindowSize?(size: number): void }) => void): void;
  updateSettings?(settings: { initialWindowSize: number }): void;
}

function widenSessionWindows(server: Server): void {
  // grpc-js does not expose the server's HTTP/2 windows; its bound servers are in `http2Servers`.
  const internals = server as unknown as { http2Servers?: Map<Http2ServerLike, unknown>; commonServerOptions?: unknown };
  for (const http2Server of internals.http2Servers?.keys() ?? []) {
    if (!internals.commonServerOptions) http2Server.updateSettings?.({ initialWindowSize: STREAM_WINDOW_BYTES });
    http2Server.on('session', (session) => {
      try {
        session.setLocalWindowSize?.(SESSION_WINDOW_BYTES);
      } catch {
        // a session that closed at once keeps the default window
      }
    });
  }
}

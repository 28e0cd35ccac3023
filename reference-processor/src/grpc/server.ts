import fs from 'node:fs';
import http2 from 'node:http2';
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
import { serveSubmitJob, takesStream } from './submit-job-stream';

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

type StreamHandler = (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => void;

export interface ProcessorGrpc {
  server: Server;
  health: HealthImplementation;
  /** SubmitJob streams, served beside grpc-js once bound (`submit-job-stream`). */
  submitJobStreams: StreamHandler;
}

export function createGrpcServer(processor: Processor, log: Logger, chunkBytes: number, maxMessageBytes: number): ProcessorGrpc {
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
  return { server, health, submitJobStreams: serveSubmitJob(processor, log, maxMessageBytes) };
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
export function bindGrpc(grpc: ProcessorGrpc, host: string, port: number, credentials = ServerCredentials.createInsecure()): Promise<number> {
  const { server } = grpc;
  return new Promise((resolve, reject) => {
    server.bindAsync(`${host}:${port}`, credentials, (err, bound) => {
      if (err) reject(err);
      else resolve(bound);
    });
  }).then((bound) => {
    for (const http2Server of boundServers(server)) {
      widenSessionWindows(server, http2Server);
      takeSubmitJobStreams(http2Server, grpc.submitJobStreams);
    }
    return bound as number;
  });
}

type Http2ServerLike = http2.Http2Server & { updateSettings?(settings: { initialWindowSize: number }): void };

/** grpc-js does not expose its HTTP/2 servers (nor their windows); the bound ones are in `http2Servers`. */
function boundServers(server: Server): Http2ServerLike[] {
  const internals = server as unknown as { http2Servers?: Map<Http2ServerLike, unknown> };
  return [...(internals.http2Servers?.keys() ?? [])];
}

function widenSessionWindows(server: Server, http2Server: Http2ServerLike): void {
  const internals = server as unknown as { commonServerOptions?: unknown };
  if (!internals.commonServerOptions) http2Server.updateSettings?.({ initialWindowSize: STREAM_WINDOW_BYTES });
  http2Server.on('session', (session) => {
    try {
      session.setLocalWindowSize(SESSION_WINDOW_BYTES);
    } catch {
      // a session that closed at once keeps the default window
    }
  });
}

/**
 * Puts `handler` in front of grpc-js's own `stream` listener: the SubmitJob streams it takes
 * (`takesStream`) are its, every other stream is handed to grpc-js as before. A grpc-js that
 * no longer listens for `stream` itself keeps every stream.
 */
function takeSubmitJobStreams(http2Server: Http2ServerLike, handler: StreamHandler): void {
  const grpcListeners = http2Server.listeners('stream') as ((...args: unknown[]) => void)[];
  if (grpcListeners.length === 0) return;
  http2Server.removeAllListeners('stream');
  http2Server.on('stream', (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, ...rest: unknown[]) => {
    if (takesStream(headers)) handler(stream, headers);
    else for (const listener of grpcListeners) listener.call(http2Server, stream, headers, ...rest);
  });
}

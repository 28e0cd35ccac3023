import fs from 'node:fs';
import path from 'node:path';
import { Server, ServerCredentials } from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import { ProcessorServiceService, ProcessorServiceServer } from '@artorizer/contract';
import { Processor } from '../core/processor';
import { Logger } from '../logger';
import { downloadArtifact } from './handlers/download-artifact';
import { cancelJob, getJob, getJobResult, submitJobByReference } from './handlers/job-queries';
import { submitJob } from './handlers/submit-job';
import { watchJob } from './handlers/watch-job';
import { addReflection } from './reflection';

/** Compiled descriptors served by reflection, written by `make generate`. */
const DESCRIPTOR_SETS = ['artorizer.binpb', 'health.binpb'].map((name) =>
  path.join(path.dirname(require.resolve('@artorizer/contract/package.json')), 'gen', name),
);

/** The HTTP/2 receive window the server advertises; Node's 64 KiB default throttles uploads. */
const SERVER_WINDOW_BYTES = 16 * 1024 * 1024;

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
  server.addService(ProcessorServiceService, impl);
  const health = new HealthImplementation({ '': 'SERVING', 'artorizer.v1.ProcessorService': 'SERVING' });
  health.addToServer(server);
  addReflection(server, DESCRIPTOR_SETS.map((file) => fs.readFileSync(file)));
  return { server, health };
}

/** Binds and raises each new HTTP/2 session's receive window so client streams are not throttled. */
export function bindGrpc(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.bindAsync(`${host}:${port}`, ServerCredentials.createInsecure(), (err, bound) => {
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
}

function widenSessionWindows(server: Server): void {
  // grpc-js does not expose the server's HTTP/2 window; its bound servers are in `http2Servers`.
  const internals = server as unknown as { http2Servers?: Map<Http2ServerLike, unknown> };
  for (const http2Server of internals.http2Servers?.keys() ?? []) {
    http2Server.on('session', (session) => {
      try {
        session.setLocalWindowSize?.(SERVER_WINDOW_BYTES);
      } catch {
        // a session that closed at once keeps the default window
      }
    });
  }
}

import http from 'node:http';
import { once } from 'node:events';
import { AddressInfo } from 'node:net';
import { ProcessorConfig } from './config';
import { createS3Client } from './core/s3-client';
import { Processor } from './core/processor';
import { bindGrpc, createGrpcServer } from './grpc/server';
import { createHttpApp } from './http/app';
import { Logger } from './logger';

export interface RunningProcessor {
  processor: Processor;
  grpcPort: number;
  /** Legacy HTTP API port, or undefined when disabled. */
  httpPort: number | undefined;
  /** Graceful stop: refuse new work, let running jobs finish within the grace period, close. */
  stop(graceMs?: number): Promise<void>;
}

/** Largest gRPC message accepted: a chunk of up to 4 MiB plus its envelope. */
const MAX_MESSAGE_BYTES = 4 * 1024 * 1024 + 64 * 1024;

export async function startProcessor(config: ProcessorConfig, log: Logger): Promise<RunningProcessor> {
  const s3 = config.s3 ? createS3Client(config.s3) : undefined;
  const processor = new Processor(config, log, s3);
  await processor.start();
  const { server, health } = createGrpcServer(processor, log, config.downloadChunkBytes, MAX_MESSAGE_BYTES);
  const grpcPort = await bindGrpc(server, config.host, config.grpcPort);

  let httpServer: http.Server | undefined;
  if (config.httpPort >= 0) {
    httpServer = http.createServer(createHttpApp(processor, log));
    httpServer.listen(config.httpPort, config.host);
    await once(httpServer, 'listening');
  }
  const httpPort = httpServer ? (httpServer.address() as AddressInfo).port : undefined;
  log.info({ grpcPort, httpPort, workDir: config.workDir }, 'processor listening');

  let stopping: Promise<void> | undefined;
  const stop = (graceMs = config.shutdownGraceMs) =>
    (stopping ??= (async () => {
      health.setStatus('', 'NOT_SERVING');
      health.setStatus('artorizer.v1.ProcessorService', 'NOT_SERVING');
      httpServer?.close();
      await processor.shutdown(graceMs);
      await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
      httpServer?.closeAllConnections();
      await processor.workspace.destroy();
      s3?.destroy();
      log.info('processor stopped');
    })());
  return { processor, grpcPort, httpPort, stop };
}

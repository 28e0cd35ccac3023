import http from 'node:http';
import https from 'node:https';
import { once } from 'node:events';
import { AddressInfo } from 'node:net';
import { openWorkDir } from '@artorizer/service-kit';
import { ProcessorConfig } from './config';
import { createS3Client } from './core/s3-client';
import { Processor } from './core/processor';
import { bindGrpc, createGrpcServer } from './grpc/server';
import { exposureWarnings, grpcTransport, serverCredentials } from './grpc/tls';
import { createHttpApp } from './http/app';
import { Logger } from './logger';

export interface RunningProcessor {
  processor: Processor;
  grpcPort: number;
  /** Legacy HTTP API port, or undefined when disabled. */
  httpPort: number | undefined;
  /** This process's own folder under WORK_DIR (`incoming/`, `jobs/`), removed by `stop`. */
  workDir: string;
  /** Graceful stop: refuse new work, let running jobs finish within the grace period, close. */
  stop(graceMs?: number): Promise<void>;
}

/**
 * The legacy HTTP API's server: HTTPS with the gRPC certificate and key when `HTTP_TLS=on`,
 * asking for a client certificate from `GRPC_TLS_CA` when that is set (as gRPC does).
 */
function createHttpServer(config: ProcessorConfig, app: http.RequestListener): http.Server {
  const identity = config.grpcTls?.identity;
  if (!config.httpTls || !identity) return http.createServer(app);
  const ca = config.grpcTls?.ca;
  return https.createServer({ cert: identity.cert, key: identity.key, ...(ca ? { ca, requestCert: true, rejectUnauthorized: true } : {}) }, app);
}

/** Largest gRPC message accepted: a chunk of up to 4 MiB plus its envelope. */
const MAX_MESSAGE_BYTES = 4 * 1024 * 1024 + 64 * 1024;

export async function startProcessor(config: ProcessorConfig, log: Logger): Promise<RunningProcessor> {
  if (config.workRootFromDeprecatedName) log.warn('PROCESSOR_WORK_DIR is deprecated; set WORK_DIR');
  const workDir = await openWorkDir(config.workRoot);
  if (workDir.swept > 0) log.info({ swept: workDir.swept, workRoot: config.workRoot }, 'removed the working folders of processors that died');
  const s3 = config.s3 ? createS3Client(config.s3) : undefined;
  const processor = new Processor(config, log, workDir.dir, s3);
  let grpc: ReturnType<typeof createGrpcServer> | undefined;
  let grpcPort: number;
  let httpServer: http.Server | undefined;
  try {
    await processor.start();
    grpc = createGrpcServer(processor, log, config.downloadChunkBytes, MAX_MESSAGE_BYTES);
    grpcPort = await bindGrpc(grpc, config.host, config.grpcPort, serverCredentials(config.grpcTls));
    if (config.httpPort >= 0) {
      httpServer = createHttpServer(config, createHttpApp(processor, log));
      httpServer.listen(config.httpPort, config.httpHost);
      await once(httpServer, 'listening');
    }
  } catch (err) {
    grpc?.server.forceShutdown();
    httpServer?.close();
    await processor.shutdown(0);
    await workDir.close();
    s3?.destroy();
    throw err;
  }
  const { server, health } = grpc;
  const httpPort = httpServer ? (httpServer.address() as AddressInfo).port : undefined;
  for (const warning of exposureWarnings(config)) log.warn(warning);
  const grpcTls = grpcTransport(config.grpcTls);
  log.info({ grpcPort, grpcTls, httpPort, httpTls: config.httpTls, workDir: workDir.dir }, 'processor listening');

  let stopping: Promise<void> | undefined;
  const stop = (graceMs = config.shutdownGraceMs) =>
    (stopping ??= (async () => {
      health.setStatus('', 'NOT_SERVING');
      health.setStatus('artorizer.v1.ProcessorService', 'NOT_SERVING');
      httpServer?.close();
      await processor.shutdown(graceMs);
      await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
      httpServer?.closeAllConnections();
      await workDir.close();
      s3?.destroy();
      log.info('processor stopped');
    })());
  return { processor, grpcPort, httpPort, workDir: workDir.dir, stop };
}

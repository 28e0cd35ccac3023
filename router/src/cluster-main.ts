import cluster from 'node:cluster';
import os from 'node:os';
import { readSetting } from '@artorizer/service-kit';
import { processSettings } from './config/server';
import { logger } from './logger';

/**
 * The router on every core: one primary that forks `ROUTER_WORKERS` (default: the number of
 * cores) workers, each a full router listening on the same PORT (the cluster module shares
 * the socket), and replaces a worker that dies.
 */
if (cluster.isPrimary) {
  const workers = readSetting(process.env, processSettings.settings.workers) ?? os.availableParallelism();
  // Workers share nothing but the socket: direct-upload grants (each consumed by one submit),
  // the note of which upload a job was made from, rate limits and caps live in each worker
  // unless Redis holds them. With a store, several workers without Redis would let one upload
  // make a job per worker.
  if (workers > 1 && (process.env.S3_ENDPOINT || process.env.S3_BUCKET) && !process.env.REDIS_URL && !process.env.REDIS_CLUSTER_NODES) {
    logger.error({ workers }, 'several router workers with an object store need Redis, REDIS_URL or REDIS_CLUSTER_NODES (upload grants, rate limits); set it, or ROUTER_WORKERS=1');
    process.exit(1);
  }
  let stopping = false;
  for (let i = 0; i < workers; i++) cluster.fork();
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) return;
    logger.warn({ pid: worker.process.pid, code, signal }, 'router worker died; starting another');
    cluster.fork();
  });
  for (const sig of ['SIGTERM', 'SIGINT'] as const) {
    process.once(sig, () => {
      stopping = true;
      for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM');
    });
  }
  logger.info({ workers }, 'router cluster started');
} else {
  require('./main');
}

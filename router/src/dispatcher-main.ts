import { exitOnSignals } from '@artorizer/service-kit';
import { loadConfig } from './config';
import { openObjectStore, openProcessorPool, startDispatchCore } from './dispatch-core';
import { logger } from './logger';
import { createMetrics } from './metrics';
import { describeTarget } from './redis';

/**
 * `make dispatcher`: the dispatcher as its own process, for scaling it apart from the HTTP
 * edge (run the routers with DISPATCHER=off). Same variables as the router.
 */
async function main(): Promise<void> {
  const config = loadConfig();
  if (!config.redis) throw new Error('the dispatcher needs REDIS_URL (one Redis server) or REDIS_CLUSTER_NODES (a Redis Cluster)');
  const pool = openProcessorPool(config, createMetrics());
  const store = openObjectStore(config);
  const core = await startDispatchCore(config, config.redis, pool, store, logger, true);
  logger.info({ processors: config.processorAddrs, grpcTls: Boolean(config.grpcTls), redis: describeTarget(config.redis) }, 'dispatcher running');
  exitOnSignals(async () => {
    await core.stop();
    pool.close();
    store?.close();
    core.disconnect();
  }, logger);
}

main().catch((err: unknown) => {
  logger.error({ err }, 'dispatcher failed to start');
  process.exit(1);
});

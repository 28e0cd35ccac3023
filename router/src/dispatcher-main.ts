import { exitOnSignals } from '@artorizer/service-kit';
import { loadConfig } from './config';
import { ProcessorPool } from './grpc/processor-pool';
import { RedisJobOwners } from './grpc/job-owners';
import { channelCredentials } from './grpc/tls';
import { logger } from './logger';
import { createMetrics } from './metrics';
import { Dispatcher, dispatcherOptions } from './queue/dispatcher';
import { HealthBreaker } from './grpc/health-breaker';
import { JobRecords } from './queue/records';
import { recordsPrefix } from './queue/keys';
import { describeTarget, openRedis } from './redis';
import { ObjectStore } from './storage/object-store';

/**
 * `make dispatcher`: the dispatcher as its own process, for scaling it apart from the HTTP
 * edge (run the routers with DISPATCHER=off). Same variables as the router.
 */
async function main(): Promise<void> {
  const config = loadConfig();
  if (!config.redis) throw new Error('the dispatcher needs REDIS_URL (one Redis server) or REDIS_CLUSTER_NODES (a Redis Cluster)');
  const pool = new ProcessorPool(config.processorAddrs, config.grpcDeadlineMs, createMetrics(), config.grpcStreamDeadlineMs, channelCredentials(config.grpcTls));
  const store = config.store ? new ObjectStore(config.store) : undefined;
  const redis = openRedis(config.redis, { maxRetriesPerRequest: 3 }).on('error', (err) => logger.warn({ err, connection: 'records' }, 'redis connection error'));
  const records = new JobRecords(redis, recordsPrefix(config.redisPrefix), config.jobRetentionSeconds);
  pool.shareOwners(new RedisJobOwners(redis, `${config.redisPrefix}:`, config.jobRetentionSeconds));
  const breaker = new HealthBreaker(pool, config.healthIntervalMs, logger);
  await breaker.start();
  const dispatcher = new Dispatcher(dispatcherOptions(config, config.redis), records, pool, breaker, store, logger);
  dispatcher.start();
  logger.info({ processors: config.processorAddrs, grpcTls: Boolean(config.grpcTls), redis: describeTarget(config.redis) }, 'dispatcher running');
  exitOnSignals(async () => {
    breaker.stop();
    await dispatcher.close();
    pool.close();
    store?.close();
    redis.disconnect();
  }, logger);
}

main().catch((err: unknown) => {
  logger.error({ err }, 'dispatcher failed to start');
  process.exit(1);
});

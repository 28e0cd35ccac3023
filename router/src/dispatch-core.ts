import { RedisOptions } from 'ioredis';
import { RouterConfig } from './config';
import { HealthBreaker } from './grpc/health-breaker';
import { RedisJobOwners } from './grpc/job-owners';
import { ProcessorPool } from './grpc/processor-pool';
import { Logger } from './logger';
import { Metrics } from './metrics';
import { Dispatcher, dispatcherOptions } from './queue/dispatcher';
import { recordsPrefix } from './queue/keys';
import { JobRecords } from './queue/records';
import { RedisConnection, RedisTarget, openRedis } from './redis';
import { ObjectStore } from './storage/object-store';

/*
 * The parts a router and `make dispatcher` (dispatcher-main.ts) both run on, built the same way
 * in each: the processor pool, the object store, and with Redis the job records, who owns a
 * job, the health breaker and the dispatcher.
 */

export function openProcessorPool(config: RouterConfig, metrics: Metrics): ProcessorPool {
  return new ProcessorPool(config.processorAddrs, config.grpcDeadlineMs, metrics, config.grpcStreamDeadlineMs, config.grpcTls);
}

export function openObjectStore(config: RouterConfig): ObjectStore | undefined {
  return config.store ? new ObjectStore(config.store) : undefined;
}

/** A Redis connection whose errors (each reconnect attempt) go to the log, not to ioredis's console fallback. */
export function openLoggedRedis(target: RedisTarget, name: string, options: RedisOptions, log: Logger): RedisConnection {
  return openRedis(target, options).on('error', (err) => log.warn({ err, connection: name }, 'redis connection error'));
}

export interface DispatchCore {
  /** The records' connection, which also holds who owns a job. */
  redis: RedisConnection;
  records: JobRecords;
  breaker: HealthBreaker;
  /** Stops the health checks and the dispatcher (when there is one). */
  stop(): Promise<void>;
  /** Closes the records' connection, after everything that uses it has stopped. */
  disconnect(): void;
}

/**
 * Job records in Redis, shared ownership of jobs (every router and dispatcher reads a job's
 * processor from one record), the health breaker, started, and with `dispatch` the dispatcher,
 * running.
 */
export async function startDispatchCore(config: RouterConfig, target: RedisTarget, pool: ProcessorPool, store: ObjectStore | undefined, log: Logger, dispatch: boolean): Promise<DispatchCore> {
  const redis = openLoggedRedis(target, 'records', { maxRetriesPerRequest: 3, enableAutoPipelining: true }, log);
  const records = new JobRecords(redis, recordsPrefix(config.redisPrefix), config.jobRetentionSeconds);
  pool.shareOwners(new RedisJobOwners(redis, `${config.redisPrefix}:`, config.jobRetentionSeconds));
  const breaker = new HealthBreaker(pool, config.healthIntervalMs, log);
  await breaker.start();
  const dispatcher = dispatch ? new Dispatcher(dispatcherOptions(config, target), records, pool, breaker, store, log) : undefined;
  dispatcher?.start();
  return {
    redis,
    records,
    breaker,
    stop: async () => {
      breaker.stop();
      await dispatcher?.close();
    },
    disconnect: () => redis.disconnect(),
  };
}

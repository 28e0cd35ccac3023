import { JOB_RETENTION_SECONDS, adapt, integer, milliseconds, oneOf, section, text } from '@artorizer/service-kit';
import { z } from 'zod';

/** The queue and job store in Redis, and the dispatcher that drains it. */
export const queueSettings = section('Queue', {
  redisUrl: text({
    name: 'REDIS_URL',
    default: undefined,
    meaning: 'queue and job store on one Redis server; unset (and no `REDIS_CLUSTER_NODES`) means synchronous submits, single instance',
  }),
  redisClusterNodes: text({
    name: 'REDIS_CLUSTER_NODES',
    default: undefined,
    allowed: 'comma list of host:port',
    meaning:
      'the same on a Redis Cluster: some of its nodes, `host:port,...` (IPv6 as `[::1]:7000`); the client finds the others. Setting it and `REDIS_URL` is a start-up error. See [On a Redis Cluster](queue.md#on-a-redis-cluster-redis_cluster_nodes)',
  }),
  redisPrefix: text({
    name: 'REDIS_PREFIX',
    default: 'artorizer',
    allowed: 'no `{` or `}`',
    // the prefix is the queue keys' hash tag ({prefix}:...): a brace in it would end the tag early
    check: z.string().refine((prefix) => !/[{}]/.test(prefix), 'must not contain "{" or "}"'),
    meaning: "key prefix in Redis; the queue's keys carry it as a hash tag (`{artorizer}:...`)",
  }),
  jobRetentionSeconds: adapt(JOB_RETENTION_SECONDS, { meaning: 'lifetime of queued-job records' }),
  dispatchAttempts: integer({ name: 'DISPATCH_ATTEMPTS', default: 8, min: 1, max: 100, meaning: 'attempts before the dead letter' }),
  dispatchBackoffMs: milliseconds({ name: 'DISPATCH_BACKOFF_MS', default: 1000, min: 1, meaning: 'first retry delay (doubles, with jitter)' }),
  dispatchLockMs: milliseconds({
    name: 'DISPATCH_LOCK_MS',
    default: 30_000,
    min: 500,
    meaning:
      "a dispatcher's lock on the job it runs (BullMQ `lockDuration`, renewed at half of it) and how often stalled jobs are looked for: a job whose dispatcher died is taken up by another within about twice this",
  }),
  perProcessorLimit: integer({ name: 'PROCESSOR_MAX_INFLIGHT', default: 4, min: 1, max: 1000, meaning: 'queued jobs in flight per processor' }),
  dispatcher: oneOf({ name: 'DISPATCHER', choices: ['inline', 'off'], default: 'inline', meaning: '`inline` runs the dispatcher in the router; `off` leaves it to `make dispatcher`' }),
});

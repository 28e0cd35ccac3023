import { DispatchQueue } from '../../src/queue/dispatch-queue';
import { JobIntake } from '../../src/queue/intake';
import { queuePrefix, recordsPrefix } from '../../src/queue/keys';
import { JobRecords } from '../../src/queue/records';
import { RedisTarget, openRedis } from '../../src/redis';

/**
 * The intake as the router builds it (see startQueueing): records on one connection, BullMQ on
 * another, the transactions on the records' connection on one server and on one of their own on
 * a cluster; keys laid out as queue/keys.ts says for REDIS_PREFIX `prefix`. Counts the calls
 * the tests look at.
 */
export function intakeStack(target: RedisTarget, prefix: string) {
  const redis = openRedis(target, { maxRetriesPerRequest: 1, enableAutoPipelining: true });
  const entries = target.kind === 'cluster' ? openRedis(target, { maxRetriesPerRequest: 1 }) : redis;
  const queueConnection = openRedis(target, { maxRetriesPerRequest: 1 });
  const records = new JobRecords(redis, recordsPrefix(prefix), 60);
  const dispatch = new DispatchQueue({ connection: queueConnection, entryConnection: entries, prefix: queuePrefix(prefix), attempts: 3, backoffMs: 50, retentionSeconds: 60 });
  const calls = { transactions: 0, entriesAlone: 0 };
  const transaction = dispatch.transaction.bind(dispatch);
  dispatch.transaction = () => {
    calls.transactions++;
    return transaction();
  };
  const enqueue = dispatch.enqueue.bind(dispatch);
  dispatch.enqueue = (id, priority) => {
    calls.entriesAlone++;
    return enqueue(id, priority);
  };
  const close = async () => {
    await dispatch.close();
    queueConnection.disconnect();
    if (entries !== redis) entries.disconnect();
    redis.disconnect();
  };
  return { redis, entries, queueConnection, records, dispatch, intake: new JobIntake(records, dispatch), calls, close };
}

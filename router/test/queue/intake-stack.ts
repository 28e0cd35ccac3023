import { Redis } from 'ioredis';
import { DispatchQueue } from '../../src/queue/dispatch-queue';
import { JobIntake } from '../../src/queue/intake';
import { JobRecords } from '../../src/queue/records';

/** The intake as the router builds it: records and entries on one connection, BullMQ on another; counts the calls the tests look at. */
export function intakeStack(url: string, prefix: string) {
  const redis = new Redis(url, { maxRetriesPerRequest: 1, enableAutoPipelining: true });
  const queueConnection = new Redis(url, { maxRetriesPerRequest: 1 });
  const records = new JobRecords(redis, `${prefix}:`, 60);
  const dispatch = new DispatchQueue({ connection: queueConnection, entryConnection: redis, prefix, attempts: 3, backoffMs: 50, retentionSeconds: 60 });
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
    redis.disconnect();
  };
  return { redis, queueConnection, records, dispatch, intake: new JobIntake(records, dispatch), calls, close };
}

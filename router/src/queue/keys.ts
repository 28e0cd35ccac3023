/**
 * The queue's keys in Redis, for `REDIS_PREFIX` P: BullMQ's under `{P}:dispatch:`, the job
 * records under `{P}:job:`, their update channels under `{P}:events:` and the idempotency keys
 * under `{P}:idempotency:`. The braces make P their hash tag: on a Redis Cluster they all live
 * in one slot, as the intake's MULTI (a record and its BullMQ entry together) and BullMQ's
 * scripts require. One server gets the same layout, so the tests on one server exercise the
 * keys a cluster has. Keys that need no such company spread over the cluster instead: upload
 * claims (`P:upload-*:{<upload id>}`, tagged per upload), tus locks and rate-limit counters
 * (`P:tus-lock:*`, `P:rate:*`, one key each).
 */
export function queuePrefix(redisPrefix: string): string {
  return `{${redisPrefix}}`;
}

/** The job records' key prefix (ends in ':'). */
export function recordsPrefix(redisPrefix: string): string {
  return `${queuePrefix(redisPrefix)}:`;
}

import { IRedisTransaction, Job, JobsOptions, Queue } from 'bullmq';
import { RedisConnection, ReplicaAck } from '../redis';
import { copyCommands } from './copy-commands';
import { EntryTransaction } from './entry-transaction';

export const DISPATCH_QUEUE = 'dispatch';
/** How long a submit waits for a replica to acknowledge its job (a Redis Cluster only), before its 503. */
export const REPLICA_ACK_TIMEOUT_MS = 1000;
const JOB_NAME = 'dispatch';
/** BullMQ's Lua commands that write a new entry (`Job#addJob` without a parent), defined as `<name>:<BullMQ version>`. */
const ADD_JOB_COMMANDS = ['addStandardJob', 'addPrioritizedJob', 'addDelayedJob'];

export interface DispatchData {
  id: string;
}

export interface DispatchQueueOptions {
  /** BullMQ's own connection: it defines all its Lua commands (about 65) on it. */
  connection: RedisConnection;
  /**
   * The job records' connection, where the entries are written, so a record and its entry go
   * in one transaction. It must reach the same Redis server as `connection`, without a
   * keyPrefix. Of BullMQ's commands only the add-job ones are copied onto it: ioredis copies
   * every command defined on a connection onto each MULTI and auto-pipeline batch it makes,
   * and with BullMQ's whole set that was most of a queued submit's garbage. On a Redis Cluster
   * give it a connection of its own: `replicated` blocks it while it waits for a replica.
   */
  entryConnection: RedisConnection;
  /** BullMQ's prefix, `queuePrefix(REDIS_PREFIX)`: the hash tag the job records share (see queue/keys.ts). */
  prefix: string;
  /** Attempts before a job goes to the dead letter (`DISPATCH_ATTEMPTS`). */
  attempts: number;
  /** First retry delay; doubles each attempt, with jitter (`DISPATCH_BACKOFF_MS`). */
  backoffMs: number;
  retentionSeconds: number;
}

/** Request priority (-100..100, higher first) to BullMQ priority (1 is served first). */
export function queuePriority(priority: number): number {
  return 101 - Math.max(-100, Math.min(100, Math.trunc(priority)));
}

/** The BullMQ queue between `POST /protect` and the dispatcher; carries job ids, never image bytes. */
export class DispatchQueue {
  readonly queue: Queue<DispatchData>;
  private commandsCopied = false;
  private readonly entriesAck: ReplicaAck;
  private readonly queueAck: ReplicaAck;

  constructor(private readonly options: DispatchQueueOptions) {
    // BullMQ refuses a keyPrefix on its own connection; on this one entries would land where it never looks.
    if (options.entryConnection.options.keyPrefix) throw new Error('the entry connection must not have a keyPrefix (BullMQ keys carry their own prefix)');
    this.queue = new Queue<DispatchData>(DISPATCH_QUEUE, {
      connection: options.connection,
      prefix: options.prefix,
    });
    // any key with the queue's hash tag names its slot
    this.entriesAck = new ReplicaAck(options.entryConnection, options.prefix, REPLICA_ACK_TIMEOUT_MS);
    this.queueAck = new ReplicaAck(options.connection, options.prefix, REPLICA_ACK_TIMEOUT_MS);
  }

  /**
   * On a Redis Cluster, whether a replica of the queue's master holds what the entry connection
   * wrote (the intake's transactions), and the queue connection too when `alsoEntriesAlone`
   * (entries written by `enqueue`): a master that dies before its replica has a write loses it
   * when the replica takes over. True on one server, and on a cluster whose queue slot has no
   * replica; false when none acknowledged within REPLICA_ACK_TIMEOUT_MS.
   */
  async replicated(alsoEntriesAlone: boolean): Promise<boolean> {
    const acks = await Promise.all([this.entriesAck.wait(), ...(alsoEntriesAlone ? [this.queueAck.wait()] : [])]);
    return acks.every(Boolean);
  }

  /** A MULTI on the entry connection, for `stage` and the caller's own commands. */
  async transaction(): Promise<IRedisTransaction> {
    // Resolves once BullMQ has defined its commands on `connection`.
    await this.queue.getBackend().client;
    if (!this.commandsCopied) {
      copyCommands(this.options.connection, this.options.entryConnection, ADD_JOB_COMMANDS);
      this.commandsCopied = true;
    }
    return new EntryTransaction(this.options.entryConnection);
  }

  /**
   * Puts the entry for job `id` on `tx` (as Queue.add would write it, see FlowProducer); the
   * command is queued before this returns. Invalid options throw before anything is queued.
   */
  stage(tx: IRedisTransaction, id: string, priority: number): Promise<unknown> {
    return new Job<DispatchData>(this.queue, JOB_NAME, { id }, this.jobOptions(id, priority), id).addJob(tx);
  }

  /**
   * The entry for job `id` on its own (Queue.add), for when a transaction could not carry it.
   * Outside a transaction ioredis reloads a script Redis lost (NOSCRIPT); Redis's script cache
   * is server-wide, so later transactions on the entry connection find it again.
   */
  async enqueue(id: string, priority: number): Promise<void> {
    await this.queue.add(JOB_NAME, { id }, this.jobOptions(id, priority));
  }

  private jobOptions(id: string, priority: number): JobsOptions {
    return {
      jobId: id,
      priority: queuePriority(priority),
      attempts: this.options.attempts,
      backoff: { type: 'exponential', delay: this.options.backoffMs, jitter: 0.5 },
      removeOnComplete: { age: this.options.retentionSeconds },
      removeOnFail: { age: this.options.retentionSeconds },
    };
  }

  /** Queues the entry for `id` again if one of that id has already ended (BullMQ skips adding an id it holds). */
  async revive(id: string, priority: number): Promise<void> {
    const state = await this.queue.getJobState(id);
    if (state !== 'completed' && state !== 'failed') return;
    await this.queue.remove(id);
    await this.enqueue(id, priority);
  }

  /** Drops a job that has not started; false when a worker already has it. */
  async remove(id: string): Promise<boolean> {
    return (await this.queue.remove(id)) === 1;
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}

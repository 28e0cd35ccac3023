import { IRedisTransaction, Job, JobsOptions, Queue } from 'bullmq';
import { Redis } from 'ioredis';

export const DISPATCH_QUEUE = 'dispatch';
const JOB_NAME = 'dispatch';

export interface DispatchData {
  id: string;
}

export interface DispatchQueueOptions {
  /** Shared with the job records, so a record and its queue entry go in one transaction. */
  connection: Redis;
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

  constructor(private readonly options: DispatchQueueOptions) {
    this.queue = new Queue<DispatchData>(DISPATCH_QUEUE, {
      connection: options.connection,
      prefix: options.prefix,
    });
  }

  /** A MULTI on the queue's connection, for `stage` and the caller's own commands. */
  async transaction(): Promise<IRedisTransaction> {
    return (await this.queue.getBackend().client).multi();
  }

  /**
   * Puts the entry for job `id` on `tx` (as Queue.add would write it, see FlowProducer); the
   * command is queued before this returns. Invalid options reject the promise before anything is sent.
   */
  stage(tx: IRedisTransaction, id: string, priority: number): Promise<unknown> {
    return new Job<DispatchData>(this.queue, JOB_NAME, { id }, this.jobOptions(id, priority), id).addJob(tx);
  }

  /** The entry for job `id` on its own (Queue.add), for when a transaction could not carry it. */
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

  /** Drops a job that has not started; false when a worker already has it. */
  async remove(id: string): Promise<boolean> {
    return (await this.queue.remove(id)) === 1;
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}

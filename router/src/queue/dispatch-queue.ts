import { Queue } from 'bullmq';
import { Redis } from 'ioredis';

export const DISPATCH_QUEUE = 'dispatch';

export interface DispatchData {
  id: string;
}

export interface DispatchQueueOptions {
  /** Shared with the job records, so a record and its queue entry are written in order. */
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

  async enqueue(id: string, priority: number): Promise<void> {
    await this.queue.add(
      'dispatch',
      { id },
      {
        jobId: id,
        priority: queuePriority(priority),
        attempts: this.options.attempts,
        backoff: { type: 'exponential', delay: this.options.backoffMs, jitter: 0.5 },
        removeOnComplete: { age: this.options.retentionSeconds },
        removeOnFail: { age: this.options.retentionSeconds },
      },
    );
  }

  /** Drops a job that has not started; false when a worker already has it. */
  async remove(id: string): Promise<boolean> {
    return (await this.queue.remove(id)) === 1;
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}

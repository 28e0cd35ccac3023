import { JobRecord } from './job-record';
import { unavailable } from './errors';

export type RunJob = (record: JobRecord) => Promise<void>;

/** Runs jobs with bounded concurrency, highest priority first, FIFO within a priority. */
export class JobRunner {
  private readonly queue: JobRecord[] = [];
  private readonly running = new Map<string, Promise<void>>();
  private closed = false;

  constructor(
    private readonly concurrency: number,
    private readonly maxQueued: number,
    private readonly run: RunJob,
  ) {}

  /** Throws before anything is created when the runner cannot take another job. */
  checkCapacity(): void {
    if (this.closed) throw unavailable('processor is shutting down');
    if (this.queue.length >= this.maxQueued) {
      throw unavailable(`processor is busy: its queue is full (${this.maxQueued} jobs waiting); retry later`);
    }
  }

  submit(record: JobRecord): void {
    this.checkCapacity();
    const at = this.queue.findIndex((queued) => queued.spec.priority < record.spec.priority);
    if (at === -1) this.queue.push(record);
    else this.queue.splice(at, 0, record);
    this.pump();
  }

  /** Removes a job that has not started; returns false when it is running or unknown. */
  dequeue(record: JobRecord): boolean {
    const at = this.queue.indexOf(record);
    if (at === -1) return false;
    this.queue.splice(at, 1);
    return true;
  }

  get queuedCount(): number {
    return this.queue.length;
  }

  get runningCount(): number {
    return this.running.size;
  }

  /** Stops taking jobs and returns the ones still queued; `settled()` waits for running ones. */
  close(): JobRecord[] {
    this.closed = true;
    return this.queue.splice(0, this.queue.length);
  }

  async settled(): Promise<void> {
    await Promise.allSettled([...this.running.values()]);
  }

  private pump(): void {
    while (this.running.size < this.concurrency && this.queue.length > 0) {
      const record = this.queue.shift()!;
      const done = this.run(record)
        .catch(() => undefined)
        .finally(() => {
          this.running.delete(record.id);
          this.pump();
        });
      this.running.set(record.id, done);
    }
  }
}

import { EventEmitter } from 'node:events';
import { RedisConnection } from '../redis';
import { QueuedJob } from './records';

/** One Redis subscriber shared by every SSE stream of this router, fanned out per job. */
export class RecordEvents {
  private readonly emitter = new EventEmitter().setMaxListeners(0);
  private readonly counts = new Map<string, number>();

  constructor(private readonly subscriber: RedisConnection) {
    subscriber.on('message', (channel: string, message: string) => this.emitter.emit(channel, JSON.parse(message) as QueuedJob));
  }

  /** Resolves once the subscription is active, so no update published after it is missed. */
  async subscribe(channel: string, listener: (job: QueuedJob) => void): Promise<() => Promise<void>> {
    this.emitter.on(channel, listener);
    const count = (this.counts.get(channel) ?? 0) + 1;
    this.counts.set(channel, count);
    if (count === 1) await this.subscriber.subscribe(channel);
    return async () => {
      this.emitter.off(channel, listener);
      const left = (this.counts.get(channel) ?? 1) - 1;
      if (left > 0) this.counts.set(channel, left);
      else {
        this.counts.delete(channel);
        await this.subscriber.unsubscribe(channel).catch(() => undefined);
      }
    };
  }

  close(): void {
    this.subscriber.disconnect();
  }
}

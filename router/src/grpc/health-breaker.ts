import { EventEmitter } from 'node:events';
import { ProcessorPool } from './processor-pool';
import { Logger } from '../logger';

/**
 * A circuit breaker driven by grpc.health.v1: open while no processor reports SERVING.
 * Dispatching pauses and stream submits get 503 while it is open; it closes on the first
 * healthy check. Each round also emits `health`, and `unhealthy` for every processor that was
 * serving at the last round and is not now (the dispatcher stops waiting on its jobs).
 */
export class HealthBreaker extends EventEmitter {
  private healthy = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private checking: Promise<void> | undefined;

  constructor(
    private readonly pool: ProcessorPool,
    private readonly intervalMs: number,
    private readonly log: Logger,
  ) {
    super();
  }

  get open(): boolean {
    return this.healthy.size === 0;
  }

  isHealthy(address: string): boolean {
    return this.healthy.has(address);
  }

  async start(): Promise<void> {
    await this.check();
    // a round that fails as a whole (the pool closed under it) changes nothing; the next one decides
    this.timer = setInterval(() => void this.check().catch((err: unknown) => this.log.debug({ err }, 'health round failed')), this.intervalMs).unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** One round of health checks; concurrent callers share it. */
  check(): Promise<void> {
    this.checking ??= this.pool
      .health()
      .then((answers) => {
        const wasOpen = this.open;
        const before = this.healthy;
        this.healthy = new Set(answers.filter((a) => a.serving).map((a) => a.address));
        for (const address of before) if (!this.healthy.has(address)) this.emit('unhealthy', address);
        this.emit('health');
        if (wasOpen !== this.open) {
          this.log.warn({ open: this.open, healthy: [...this.healthy] }, this.open ? 'circuit open: no processor is serving' : 'circuit closed: processors serving');
          this.emit(this.open ? 'open' : 'close');
        }
      })
      .finally(() => (this.checking = undefined));
    return this.checking;
  }
}

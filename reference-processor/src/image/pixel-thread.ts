import path from 'node:path';
import { MessageChannel } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { UndecodableImageError } from './decoded-image';
import { PixelTaskOutcome } from './pixel-task';
import { PixelWorkRequest, PixelWorkResult } from './pixel-work';

/**
 * Worker threads for the jobs' pixel work (seconds of CPU on a large photograph), so the
 * gRPC and HTTP servers keep answering while it runs and concurrent jobs use several cores.
 * Threads start on demand and end after a minute idle, which hands their memory back;
 * a job that is cancelled has its thread terminated.
 */
export class PixelPool {
  private readonly pool: Piscina;

  constructor(threads: number) {
    this.pool = new Piscina({ filename: path.join(__dirname, 'pixel-worker.cjs'), minThreads: 0, maxThreads: threads, idleTimeout: 60_000 });
  }

  async run(request: PixelWorkRequest, options: { signal: AbortSignal; onProtecting: () => void }): Promise<PixelWorkResult> {
    const { port1, port2 } = new MessageChannel();
    port1.on('message', () => options.onProtecting());
    try {
      const outcome = (await this.pool.run({ request, progress: port2 }, { transferList: [port2], signal: options.signal })) as PixelTaskOutcome;
      if (!outcome.ok) throw rebuild(outcome);
      return outcome.result;
    } finally {
      port1.close();
    }
  }

  close(): Promise<void> {
    return this.pool.destroy();
  }
}

function rebuild(failure: { name: string; message: string }): Error {
  if (failure.name === 'UndecodableImageError') return new UndecodableImageError(failure.message);
  return Object.assign(new Error(failure.message), { name: failure.name });
}

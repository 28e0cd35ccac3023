import { MessagePort } from 'node:worker_threads';
import { PixelWorkRequest, PixelWorkResult, doPixelWork } from './pixel-work';

/** A task's answer; errors travel as data because a thread boundary keeps only standard error names. */
export type PixelTaskOutcome = { ok: true; result: PixelWorkResult } | { ok: false; name: string; message: string };

/** Runs on a pool thread: one job's pixel work, with 'protecting' posted on `progress` when analysis is done. */
export async function pixelTask({ request, progress }: { request: PixelWorkRequest; progress: MessagePort }): Promise<PixelTaskOutcome> {
  try {
    return { ok: true, result: await doPixelWork(request, () => progress.postMessage('protecting')) };
  } catch (err) {
    return { ok: false, name: (err as Error).name ?? 'Error', message: (err as Error).message ?? String(err) };
  } finally {
    progress.close();
  }
}

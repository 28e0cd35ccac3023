import { UploadResult } from './client';

/**
 * One request of a client that needs several: `direct` (grant, put, submit) and tus (create,
 * patch, head, submit).
 */
export interface RequestStep {
  step: 'grant' | 'put' | 'create' | 'head' | 'patch' | 'submit';
  status: number;
  timeMs: number;
  bytesSent: number;
}

/** The result of several requests made one after the other, as one upload. */
export interface StepsResult extends UploadResult {
  /** Wall time of the curl processes, spawning included (timeMs is the sum of their %{time_total}). */
  wallMs: number;
  steps: RequestStep[];
}

/**
 * Collects the requests of one multi-request upload. `finish` sums their curl %{time_total}
 * (comparable with a single-request contender's) and %{size_upload}; its status is the first
 * unexpected one, or the last request's.
 */
export class Steps {
  private readonly started = performance.now();
  readonly steps: RequestStep[] = [];

  /** Records `res` as `step` and returns it. */
  add<R extends UploadResult>(step: RequestStep['step'], res: R): R {
    this.steps.push({ step, status: res.status, timeMs: res.timeMs, bytesSent: res.bytesSent });
    return res;
  }

  finish(status: number, body: string): StepsResult {
    return {
      status,
      body,
      timeMs: this.steps.reduce((sum, s) => sum + s.timeMs, 0),
      bytesSent: this.steps.reduce((sum, s) => sum + s.bytesSent, 0),
      wallMs: performance.now() - this.started,
      steps: this.steps,
    };
  }
}

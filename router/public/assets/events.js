// @ts-check
/** A job's progress from GET /jobs/:id/events, read with fetch (EventSource cannot send an API key). */

import { ApiError } from './api.js';

/**
 * Calls `onStatus` with each status until the `done` event, and resolves with the last one.
 * A dropped stream is reopened with Last-Event-ID, so no event is missed.
 * @param {import('./api.js').Api} api
 * @param {string} jobId
 * @param {(status: any) => void} onStatus
 * @param {AbortSignal} signal
 */
export async function watchJob(api, jobId, onStatus, signal) {
  let lastId = '';
  for (let attempt = 0; ; attempt++) {
    try {
      const res = await api.request(`/jobs/${encodeURIComponent(jobId)}/events`, { signal, headers: lastId ? { 'Last-Event-ID': lastId } : {} });
      const reader = /** @type {ReadableStream<BufferSource>} */ (res.body).pipeThrough(new TextDecoderStream()).getReader();
      let buffered = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffered += value;
        const blocks = buffered.split('\n\n');
        buffered = blocks.pop() ?? '';
        for (const block of blocks) {
          let event = 'message';
          let data = '';
          for (const line of block.split('\n')) {
            if (line.startsWith('event: ')) event = line.slice(7);
            else if (line.startsWith('data: ')) data += line.slice(6);
            else if (line.startsWith('id: ')) lastId = line.slice(4);
          }
          if (!data) continue;
          const status = JSON.parse(data);
          onStatus(status);
          if (event === 'done') return status;
        }
      }
    } catch (err) {
      if (signal.aborted) throw err;
      // a refusal (unknown job, no key) will not change by retrying
      if (err instanceof ApiError && err.status >= 400 && err.status < 500 && err.status !== 429) throw err;
      if (attempt >= 30) throw err;
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(1000 * (attempt + 1), 5000)));
  }
}

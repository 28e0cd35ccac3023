import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { RunningProcessor, startProcessor } from '../../reference-processor/src/app';
import { loadConfig as loadProcessorConfig } from '../../reference-processor/src/config';
import { logger as processorLog } from '../../reference-processor/src/logger';
import { RunningRouter, startRouter } from '../src/app';
import { loadConfig } from '../src/config';
import { logger } from '../src/logger';

export type LocalProcessor = RunningProcessor & { address: string; httpUrl: string };

/** A real reference processor on free ports, with its own work directory (`workDir`, removed when it stops). */
export async function startLocalProcessor(env: Record<string, string> = {}): Promise<LocalProcessor> {
  const running = await startProcessor(
    loadProcessorConfig({
      HOST: '127.0.0.1',
      GRPC_PORT: '0',
      HTTP_PORT: '0',
      WORK_DIR: path.join(os.tmpdir(), 'artorizer-router-tests'),
      FETCH_TIMEOUT_MS: '5000',
      IMAGE_URL_ALLOWLIST: '127.0.0.1',
      ...env,
    }),
    processorLog,
  );
  return Object.assign(running, {
    address: `127.0.0.1:${running.grpcPort}`,
    httpUrl: `http://127.0.0.1:${running.httpPort}`,
  });
}

export interface LocalRouter extends RunningRouter {
  url: string;
}

export async function startLocalRouter(env: Record<string, string>): Promise<LocalRouter> {
  const running = await startRouter(loadConfig({ HOST: '127.0.0.1', PORT: '0', ...env }), logger);
  return Object.assign(running, { url: `http://127.0.0.1:${running.port}` });
}

export function jobCount(p: LocalProcessor): number {
  return [...p.processor.jobs.all()].length;
}

export function incomingFiles(p: LocalProcessor): string[] {
  return fs.readdirSync(path.join(p.workDir, 'incoming'));
}

/**
 * Reads a job's SSE stream (GET /jobs/:id/events) until an event satisfies `until`; its status
 * JSON. Throws when the stream ends first.
 */
export async function waitForEvent(
  routerUrl: string,
  jobId: string,
  until: (event: string, status: Record<string, unknown>) => boolean,
  headers: Record<string, string> = {},
): Promise<Record<string, unknown>> {
  const abort = new AbortController();
  const res = await fetch(`${routerUrl}/jobs/${jobId}/events`, { signal: abort.signal, headers });
  const decoder = new TextDecoder();
  let text = '';
  try {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      text += decoder.decode(chunk, { stream: true });
      const blocks = text.split('\n\n');
      text = blocks.pop()!;
      for (const block of blocks) {
        const lines = block.split('\n');
        const event = lines.find((l) => l.startsWith('event: '))?.slice(7) ?? 'message';
        const data = lines.find((l) => l.startsWith('data: '));
        const status = data ? (JSON.parse(data.slice(6)) as Record<string, unknown>) : undefined;
        if (status && until(event, status)) return status;
      }
    }
  } finally {
    abort.abort();
  }
  throw new Error(`job ${jobId}: the event stream ended before the awaited event (status ${res.status})`);
}

/** Waits for a job's terminal event through the router's SSE stream. */
export async function waitForJob(routerUrl: string, jobId: string, headers: Record<string, string> = {}): Promise<{ status: string }> {
  return (await waitForEvent(routerUrl, jobId, (event) => event === 'done', headers)) as { status: string };
}

export function form(fields: Record<string, string>, file?: Buffer, fieldsFirst = true, type = 'image/png'): FormData {
  const body = new FormData();
  const addFile = () => file && body.append('image', new Blob([file], { type }), 'art.png');
  if (!fieldsFirst) addFile();
  for (const [k, v] of Object.entries(fields)) body.append(k, v);
  if (fieldsFirst) addFile();
  return body;
}

import fs from 'node:fs';
import { UploadResult, curl } from './client';
import { Host, LOCAL } from './host';

export interface DirectStep {
  step: 'grant' | 'put' | 'submit';
  status: number;
  timeMs: number;
  bytesSent: number;
}

export interface DirectResult extends UploadResult {
  /** Wall time of the three curl processes, spawning included (timeMs is the sum of their %{time_total}). */
  wallMs: number;
  steps: DirectStep[];
}

interface Grant {
  uploadId: string;
  url: string;
  headers: Record<string, string>;
}

function parseGrant(body: string): Grant | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const record = parsed as Record<string, unknown>;
  if (typeof record.upload_id !== 'string' || typeof record.url !== 'string') return undefined;
  const headers: Record<string, string> = {};
  if (typeof record.headers === 'object' && record.headers !== null) {
    for (const [k, v] of Object.entries(record.headers)) if (typeof v === 'string') headers[k] = v;
  }
  return { uploadId: record.upload_id, url: record.url, headers };
}

/**
 * A `direct` upload as a client does it, all with curl (the client of every other contender):
 * POST /uploads for a presigned PUT, the PUT of the file to the store, POST /protect with the
 * upload_id. `timeMs` is the sum of the three requests' curl %{time_total}, comparable with
 * the single-request contenders; the status is the first unexpected one, or the final 202.
 */
export async function directUpload(routerBase: string, file: string, host: Host = LOCAL): Promise<DirectResult> {
  const started = performance.now();
  const size = fs.statSync(file).size;
  const steps: DirectStep[] = [];
  const finish = (status: number, body: string): DirectResult => ({
    status,
    body,
    timeMs: steps.reduce((sum, s) => sum + s.timeMs, 0),
    bytesSent: steps.reduce((sum, s) => sum + s.bytesSent, 0),
    wallMs: performance.now() - started,
    steps,
  });
  const json = ['-H', 'Content-Type: application/json', '-d'];
  const grantRes = await curl([...json, JSON.stringify({ content_type: 'image/png', size }), `${routerBase}/uploads`], host);
  steps.push({ step: 'grant', status: grantRes.status, timeMs: grantRes.timeMs, bytesSent: grantRes.bytesSent });
  const grant = grantRes.status === 201 ? parseGrant(grantRes.body) : undefined;
  if (!grant) return finish(grantRes.status === 201 ? 0 : grantRes.status, `POST /uploads: ${grantRes.body}`);

  const headerArgs = Object.entries(grant.headers).flatMap(([k, v]) => ['-H', `${k}: ${v}`]);
  const put = await curl([...headerArgs, '-T', file, grant.url], host);
  steps.push({ step: 'put', status: put.status, timeMs: put.timeMs, bytesSent: put.bytesSent });
  if (put.status !== 200) return finish(put.status, `PUT to the store: ${put.body}`);

  const submit = await curl([...json, JSON.stringify({ upload_id: grant.uploadId, artist_name: 'Bench', artwork_title: 'Run' }), `${routerBase}/protect`], host);
  steps.push({ step: 'submit', status: submit.status, timeMs: submit.timeMs, bytesSent: submit.bytesSent });
  return finish(submit.status, submit.body);
}

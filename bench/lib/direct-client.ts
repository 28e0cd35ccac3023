import fs from 'node:fs';
import { curl } from './client';
import { Host, LOCAL } from './host';
import { Steps, StepsResult } from './steps';

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
export async function directUpload(routerBase: string, file: string, host: Host = LOCAL, contentType = 'image/png'): Promise<StepsResult> {
  const size = fs.statSync(file).size;
  const steps = new Steps();
  const json = ['-H', 'Content-Type: application/json', '-d'];
  const grantRes = steps.add('grant', await curl([...json, JSON.stringify({ content_type: contentType, size }), `${routerBase}/uploads`], host));
  const grant = grantRes.status === 201 ? parseGrant(grantRes.body) : undefined;
  if (!grant) return steps.finish(grantRes.status === 201 ? 0 : grantRes.status, `POST /uploads: ${grantRes.body}`);

  const headerArgs = Object.entries(grant.headers).flatMap(([k, v]) => ['-H', `${k}: ${v}`]);
  const put = steps.add('put', await curl([...headerArgs, '-T', file, grant.url], host));
  if (put.status !== 200) return steps.finish(put.status, `PUT to the store: ${put.body}`);

  const submit = steps.add('submit', await curl([...json, JSON.stringify({ upload_id: grant.uploadId, artist_name: 'Bench', artwork_title: 'Run' }), `${routerBase}/protect`], host));
  return steps.finish(submit.status, submit.body);
}

import fs from 'node:fs';
import path from 'node:path';
import { UploadResult, curl } from './client';
import { Host, LOCAL } from './host';
import { Steps, StepsResult } from './steps';

/**
 * The tus 1.0 client of the benchmark, all with curl (the client of every other contender),
 * one process per request: POST /files (creation), PATCH of bytes streamed from a file on
 * disk (`-T`, never buffered), HEAD for the offset, and POST /protect with the upload id.
 */

const TUS = ['-H', 'Tus-Resumable: 1.0.0'];
const JSON_BODY = ['-H', 'Content-Type: application/json', '-d'];
const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');

/** The last value of a response header in curl's `-D -` dump (after any 100 Continue block). */
export function headerValue(dump: string, name: string): string | undefined {
  const re = new RegExp(`^${name}:[ \\t]*([^\\r\\n]*)`, 'gim');
  let value: string | undefined;
  for (let m = re.exec(dump); m; m = re.exec(dump)) value = m[1].trim();
  return value;
}

/** The upload id at the end of a tus upload URL (`http://host/files/<upload_id>`). */
export function uploadIdOf(location: string): string {
  return new URL(location).pathname.split('/').filter(Boolean).pop() ?? '';
}

/** POST /files for an upload of `size` bytes declared as image/png: 201 with the upload's URL (Location). */
async function create(routerBase: string, size: number, name: string, host: Host): Promise<UploadResult & { location?: string }> {
  const res = await curl([...TUS, '-X', 'POST', '-H', `Upload-Length: ${size}`, '-H', `Upload-Metadata: filetype ${b64('image/png')},filename ${b64(name)}`, '-D', '-', `${routerBase}/files`], host);
  const location = res.status === 201 ? headerValue(res.body, 'location') : undefined;
  // a relative Location is resolved against the creation URL
  return { ...res, location: location ? new URL(location, `${routerBase}/files`).toString() : undefined };
}

/** PATCH of `file` (all of it, streamed from disk) at `offset`: 204 with the new Upload-Offset. */
async function patch(location: string, offset: number, file: string, host: Host): Promise<UploadResult & { offset?: number }> {
  const res = await curl([...TUS, '-X', 'PATCH', '-H', `Upload-Offset: ${offset}`, '-H', 'Content-Type: application/offset+octet-stream', '-T', file, '-D', '-', location], host);
  const after = headerValue(res.body, 'upload-offset');
  return { ...res, offset: after === undefined ? undefined : Number(after) };
}

/** HEAD of the upload: 200 with its Upload-Offset (how many bytes the server has). */
async function head(location: string, host: Host): Promise<UploadResult & { offset?: number }> {
  const res = await curl([...TUS, '--head', location], host);
  const at = headerValue(res.body, 'upload-offset');
  return { ...res, offset: at === undefined ? undefined : Number(at) };
}

function submit(routerBase: string, location: string, host: Host): Promise<UploadResult> {
  return curl([...JSON_BODY, JSON.stringify({ upload_id: uploadIdOf(location), artist_name: 'Bench', artwork_title: 'Run' }), `${routerBase}/protect`], host);
}

/** Creation, then one PATCH of `part` (the upload's first bytes; all of them when `part` is the whole file). */
async function start(steps: Steps, routerBase: string, part: string, totalBytes: number, name: string, host: Host): Promise<{ location?: string; failed?: StepsResult }> {
  const created = steps.add('create', await create(routerBase, totalBytes, name, host));
  if (!created.location) return { failed: steps.finish(created.status === 201 ? 0 : created.status, `POST /files: ${created.body}`) };
  const partBytes = fs.statSync(part).size;
  const sent = steps.add('patch', await patch(created.location, 0, part, host));
  if (sent.status !== 204 || sent.offset !== partBytes)
    return { failed: steps.finish(sent.status === 204 ? 0 : sent.status, `PATCH at 0: Upload-Offset ${sent.offset}, expected ${partBytes}: ${sent.body}`) };
  return { location: created.location };
}

/**
 * An uninterrupted tus upload: POST /files, one PATCH of the whole file, POST /protect with
 * the upload id. `timeMs` is the sum of the three requests' %{time_total}, like `direct`'s.
 */
export async function tusUpload(routerBase: string, file: string, host: Host = LOCAL): Promise<StepsResult> {
  const steps = new Steps();
  const { location, failed } = await start(steps, routerBase, file, fs.statSync(file).size, path.basename(file), host);
  if (failed || !location) return failed ?? steps.finish(0, 'no upload');
  const submitted = steps.add('submit', await submit(routerBase, location, host));
  return steps.finish(submitted.status, submitted.body);
}

/**
 * The part of a tus upload before a cut: POST /files for `totalBytes`, then a PATCH of
 * `headPart` (a file of the bytes before the cut). The upload's URL, or the failure.
 */
export async function tusBeforeCut(routerBase: string, headPart: string, totalBytes: number, name: string, host: Host = LOCAL): Promise<{ location?: string; result: StepsResult }> {
  const steps = new Steps();
  const { location, failed } = await start(steps, routerBase, headPart, totalBytes, name, host);
  return { location, result: failed ?? steps.finish(204, '') };
}

/**
 * Resuming a tus upload after a cut, as a client does: HEAD for the offset the server has,
 * PATCH of the rest from there (`rest`: the file's bytes from `cutBytes` on), POST /protect.
 * Fails (status 0) if the server's offset is not `cutBytes`, the start of `rest`.
 */
export async function tusResume(routerBase: string, location: string, rest: string, cutBytes: number, host: Host = LOCAL): Promise<StepsResult> {
  const steps = new Steps();
  const at = steps.add('head', await head(location, host));
  if (at.status !== 200 || at.offset !== cutBytes) return steps.finish(at.status === 200 ? 0 : at.status, `HEAD: Upload-Offset ${at.offset}, expected ${cutBytes}: ${at.body}`);
  const total = cutBytes + fs.statSync(rest).size;
  const sent = steps.add('patch', await patch(location, at.offset, rest, host));
  if (sent.status !== 204 || sent.offset !== total) return steps.finish(sent.status === 204 ? 0 : sent.status, `PATCH at ${at.offset}: Upload-Offset ${sent.offset}, expected ${total}: ${sent.body}`);
  const submitted = steps.add('submit', await submit(routerBase, location, host));
  return steps.finish(submitted.status, submitted.body);
}

import { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { jobSpecFromFields, safeFileName } from '@artorizer/contract';
import { CallContext } from '../core/call-context';
import { fieldErrorToHttp } from '../http/field-error';
import { HttpError } from '../http/errors';
import { ProcessorHttpApi } from '../legacy/processor-http-api';
import { Metrics } from '../metrics';
import { SNIFF_BYTES, acceptableDeclaredType, sniffRaster } from '@artorizer/contract';
import { readUploadForm } from './form';

export interface LegacyRelayDeps {
  api: ProcessorHttpApi;
  maxFileBytes: number;
  metrics: Metrics;
}

export type LegacyOutcome = { kind: 'job'; job: { job_id: string; status: string } } | { kind: 'fields'; fields: Record<string, string> };

interface BufferedForm {
  fields: Record<string, string>;
  file?: { data: Buffer; mimeType: string; filename: string };
}

/** Store-and-forward, as the original router did: the whole upload in memory first. */
async function bufferForm(req: IncomingMessage, maxFileBytes: number): Promise<BufferedForm> {
  const { fields, file } = await readUploadForm(req, maxFileBytes, { open: collect });
  if (!file) return { fields };
  return { fields, file: { data: file.result, mimeType: file.part.mimeType, filename: safeFileName(file.part.filename) || 'image' } };
}

async function collect(file: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const piece of file) parts.push(piece as Buffer);
  return Buffer.concat(parts);
}

/** `TRANSFER_MODE=legacy`: buffer the upload, then re-post it to the processor's `/v1/jobs`. */
export async function relayLegacy(req: IncomingMessage, deps: LegacyRelayDeps, ctx: CallContext): Promise<LegacyOutcome> {
  const form = await bufferForm(req, deps.maxFileBytes);
  if (!form.file) return { kind: 'fields', fields: form.fields };
  try {
    jobSpecFromFields(form.fields);
  } catch (err) {
    throw fieldErrorToHttp(err);
  }
  if (!acceptableDeclaredType(form.file.mimeType) || !sniffRaster(form.file.data.subarray(0, SNIFF_BYTES))) {
    throw new HttpError(415, 'the uploaded file is not a supported image', { field: 'image' });
  }
  const body = new FormData();
  for (const [name, value] of Object.entries(form.fields)) body.append(name, value);
  body.append('file', new Blob([form.file.data], { type: form.file.mimeType }), form.file.filename);
  deps.metrics.bytesRelayed.inc({ mode: 'legacy' }, form.file.data.length);
  // a whole upload re-posted may rightly take longer than PROCESSOR_HTTP_TIMEOUT_MS
  return { kind: 'job', job: await deps.api.submit(body, ctx, false) };
}

import { IncomingMessage } from 'node:http';
import { acceptableDeclaredType } from '@artorizer/contract';
import { FilePart, Form, FormError, FormSink, readForm } from '@artorizer/service-kit';
import { HttpError } from '../http/errors';

/** Reads a multipart upload into `sink`; the form's refusals come out as the router's HttpError. */
export async function readUploadForm<T>(req: IncomingMessage, maxFileBytes: number, sink: FormSink<T>): Promise<Form<T>> {
  try {
    return await readForm(req, { maxFileBytes }, sink);
  } catch (err) {
    throw err instanceof FormError ? new HttpError(err.status, err.message, err.extra, { cause: err }) : err;
  }
}

/** 415 for a file whose declared type is not an image, before any of it is relayed. */
export function refuseUndeclaredImage(part: FilePart): void {
  if (!acceptableDeclaredType(part.mimeType)) throw new HttpError(415, `unsupported file type ${part.mimeType}; send an image`, { field: 'image' });
}

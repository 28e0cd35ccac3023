import express, { Request } from 'express';
import { CallContext } from '../core/call-context';
import { callContext } from '../http/context';
import { HttpError } from '../http/errors';
import { readJsonBody } from '../http/json-body';
import { mediaType } from '../http/media-type';
import { Accepted } from '../submit/accepted';
import { Submitters } from '../submit/submitters';

/** Largest JSON body of POST /protect (the metadata fields; the image is never in it). */
const JSON_BODY_LIMIT = 1024 * 1024;

/** Image named without bytes in the request: an upload id (direct) or a URL. */
function submitByName(fields: Record<string, unknown>, submitters: Submitters, ctx: CallContext): Promise<Accepted> {
  const uploadId = fields.upload_id ?? fields.uploadId;
  if (uploadId !== undefined && uploadId !== '') return submitters.byUploadId.submit(uploadId, fields, ctx);
  const url = fields.image_url ?? fields.imageUrl;
  if (url !== undefined && url !== '') return submitters.byUrl.submit(url, fields, ctx);
  throw new HttpError(400, 'an image is required: upload a file in field "image", or give image_url or upload_id', { field: 'image' });
}

async function submitMultipart(req: Request, submitters: Submitters, ctx: CallContext): Promise<Accepted> {
  const outcome = await submitters.multipartPath(req).submit(req, ctx);
  return outcome.kind === 'accepted' ? outcome.accepted : submitByName(outcome.fields, submitters, ctx);
}

export function protectRoutes(router: express.IRouter, submitters: Submitters): void {
  router.post('/protect', async (req, res) => {
    const ctx = callContext(req);
    let accepted: Accepted;
    const type = mediaType(req.headers['content-type']);
    if (type === 'multipart/form-data') {
      accepted = await submitMultipart(req, submitters, ctx);
    } else if (type === 'application/json') {
      const body = await readJsonBody(req, JSON_BODY_LIMIT);
      if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new HttpError(400, 'JSON body must be an object');
      accepted = await submitByName(body as Record<string, unknown>, submitters, ctx);
    } else {
      throw new HttpError(415, 'Content-Type must be multipart/form-data or application/json');
    }
    res.status(202).json(accepted);
  });
}

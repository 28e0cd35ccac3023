import { randomUUID } from 'node:crypto';
import { RASTER_CONTENT_TYPES } from '@artorizer/contract';
import express from 'express';
import { RouterConfig } from '../config';
import { HttpError } from '../http/errors';
import { readJsonBody } from '../http/json-body';
import { mediaType } from '../http/media-type';
import { ObjectStore, uploadKeyFor } from '../storage/object-store';
import { UploadClaims } from '../submit/upload-claims';
import { apiKeyOf } from '../http/authenticate';

/** Content types a direct upload may declare; the bytes are checked again on submit (queued: by the dispatcher). */
export const DIRECT_UPLOAD_TYPES: readonly string[] = RASTER_CONTENT_TYPES;

/** Largest JSON body of POST /uploads (a content type, a size and a method). */
const JSON_BODY_LIMIT = 16 * 1024;

/**
 * POST /uploads: a presigned PUT (default) or POST policy for one generated key, one
 * content type, a maximum length and a short expiry. The client uploads the bytes there
 * itself and then calls POST /protect with the `upload_id`.
 */
export function uploadRoutes(router: express.IRouter, config: RouterConfig, store: ObjectStore | undefined, claims: UploadClaims): void {
  router.post('/uploads', async (req, res) => {
    if (!store) throw new HttpError(404, 'direct uploads need an object store; this router has none (set S3_ENDPOINT)');
    const parsed = mediaType(req.headers['content-type']) === 'application/json' ? await readJsonBody(req, JSON_BODY_LIMIT) : undefined;
    const body = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as Record<string, unknown>;
    const contentType = String(body.content_type ?? body.contentType ?? '').toLowerCase();
    const size = Number(body.size ?? body.size_bytes ?? body.sizeBytes);
    const method = String(body.method ?? 'PUT').toUpperCase();
    if (!DIRECT_UPLOAD_TYPES.includes(contentType)) {
      throw new HttpError(415, `content_type must be one of ${DIRECT_UPLOAD_TYPES.join(', ')}`, { field: 'content_type' });
    }
    if (!Number.isInteger(size) || size < 1) throw new HttpError(400, 'size must be the file size in bytes', { field: 'size' });
    if (size > config.maxFileBytes) throw new HttpError(413, `size exceeds the maximum of ${config.maxFileBytes} bytes`, { field: 'size', max_bytes: config.maxFileBytes });
    if (method !== 'PUT' && method !== 'POST') throw new HttpError(400, 'method must be PUT or POST', { field: 'method' });
    const uploadId = randomUUID();
    await claims.grant(uploadId, apiKeyOf(req)?.name ?? '');
    const objectKey = uploadKeyFor(uploadId);
    const expiresIn = config.uploadUrlExpirySeconds;
    const expiresAt = new Date(Date.now() + expiresIn * 1000).toISOString();
    if (method === 'POST') {
      const post = await store.presignPost(objectKey, contentType, Math.min(size, config.maxFileBytes), expiresIn);
      res.status(201).json({ upload_id: uploadId, url: post.url, method: 'POST', fields: post.fields, expires_at: expiresAt, max_bytes: size });
      return;
    }
    const put = await store.presignPut(objectKey, contentType, size, expiresIn);
    res.status(201).json({ upload_id: uploadId, url: put.url, method: 'PUT', headers: put.headers, expires_at: expiresAt });
  });
}

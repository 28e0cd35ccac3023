import { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import busboy from 'busboy';
import { safeFileName } from '@artorizer/contract';
import { HttpError } from '../http/errors';
import { Metrics } from '../metrics';
import { ObjectStore, StoredObject } from '../storage/object-store';
import { imageChunks } from './chunker';
import { acceptableDeclaredType } from '@artorizer/contract';
import { FORM_LIMITS } from './stream-relay';

export interface S3RelayDeps {
  store: ObjectStore;
  metrics: Metrics;
  maxFileBytes: number;
  chunkBytes: number;
}

export interface StoredUpload {
  object: StoredObject;
  contentType: string;
  filename: string;
}

/** A multipart request whose file went to the store, or fields only (image_url / upload_id). */
export type S3Outcome = { kind: 'stored'; upload: StoredUpload; fields: Record<string, string> } | { kind: 'fields'; fields: Record<string, string> };

/**
 * Streams the multipart file part straight into a multipart upload to the object store
 * (bounded memory, no temporary file) while collecting the fields in whatever order they
 * come. Any failure, including the client going away, aborts the upload and deletes what
 * was stored.
 */
export function relayToStore(req: IncomingMessage, deps: S3RelayDeps): Promise<S3Outcome> {
  return new Promise((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      parser = busboy({ headers: req.headers, limits: { ...FORM_LIMITS, fileSize: deps.maxFileBytes } });
    } catch {
      reject(new HttpError(400, 'malformed multipart request (missing boundary)'));
      return;
    }
    const fields: Record<string, string> = {};
    const abort = new AbortController();
    let failure: unknown;
    let storing: Promise<StoredUpload | undefined> = Promise.resolve(undefined);
    let fileSeen = false;
    let file: Readable | undefined;
    let settled = false;
    const fail = (err: unknown) => {
      failure ??= err;
      abort.abort(err);
      finish();
    };
    const finish = () => {
      if (settled) return;
      settled = true;
      void storing.then(async (upload) => {
        if (failure === undefined) {
          resolve(upload ? { kind: 'stored', upload, fields } : { kind: 'fields', fields });
          return;
        }
        if (upload) await deps.store.delete(upload.object.key);
        req.unpipe(parser);
        req.resume();
        // Ends what still reads the file (a hung-up client's file never ends by itself).
        file?.destroy();
        reject(failure);
      });
    };

    parser.on('field', (name, value) => (fields[name] = value));
    parser.on('file', (name, stream: Readable, info) => {
      stream.on('error', () => undefined);
      if ((name !== 'image' && name !== 'file') || fileSeen) return void stream.resume();
      fileSeen = true;
      file = stream;
      if (!acceptableDeclaredType(info.mimeType)) {
        stream.resume();
        return fail(new HttpError(415, `unsupported file type ${info.mimeType}; send an image`, { field: 'image' }));
      }
      const key = deps.store.newUploadKey();
      deps.metrics.inflightUploads.inc();
      storing = deps.store
        .upload(key, countBytes(imageChunks(stream, deps.chunkBytes), deps.metrics), info.mimeType, abort.signal)
        .then((object) => {
          if ((stream as Readable & { truncated?: boolean }).truncated) {
            failure ??= new HttpError(413, `image exceeds the maximum size of ${deps.maxFileBytes} bytes`, { field: 'image', max_bytes: deps.maxFileBytes });
          }
          return { object, contentType: info.mimeType, filename: safeFileName(info.filename) };
        })
        .catch((err: unknown) => {
          failure ??= err;
          stream.resume();
          return undefined;
        })
        .finally(() => deps.metrics.inflightUploads.dec());
    });
    parser.on('filesLimit', () => fail(new HttpError(400, 'only one image file per request')));
    parser.on('fieldsLimit', () => fail(new HttpError(400, `too many fields (limit ${FORM_LIMITS.fields})`)));
    parser.on('partsLimit', () => fail(new HttpError(400, `too many parts (limit ${FORM_LIMITS.parts})`)));
    parser.on('error', () => fail(new HttpError(400, 'malformed or truncated multipart body')));
    parser.on('close', finish);
    req.on('close', () => {
      if (!req.complete) fail(new HttpError(499, 'client disconnected during upload'));
    });
    req.pipe(parser);
  });
}

async function* countBytes(chunks: AsyncIterable<Buffer>, metrics: Metrics): AsyncGenerator<Buffer> {
  for await (const chunk of chunks) {
    metrics.bytesRelayed.inc({ mode: 's3' }, chunk.length);
    yield chunk;
  }
}

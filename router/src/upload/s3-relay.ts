import { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { FilePart, FormSink } from '@artorizer/service-kit';
import { safeFileName } from '@artorizer/contract';
import { Metrics } from '../metrics';
import { ObjectStore, StoredObject } from '../storage/object-store';
import { imageChunks } from './chunker';
import { readUploadForm, refuseUndeclaredImage } from './form';

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
  return readUploadForm(req, deps.maxFileBytes, new StoreSink(deps)).then(({ fields, file }) => (file ? { kind: 'stored', upload: file.result, fields } : { kind: 'fields', fields }));
}

/** The file into a multipart upload to the object store; aborting the form fails the upload's body, so lib-storage aborts it. */
class StoreSink implements FormSink<StoredUpload> {
  private readonly aborted = new AbortController();

  constructor(private readonly deps: S3RelayDeps) {}

  async open(file: Readable, part: FilePart): Promise<StoredUpload> {
    refuseUndeclaredImage(part);
    const { store, metrics } = this.deps;
    metrics.inflightUploads.inc();
    try {
      const object = await store.upload(store.newUploadKey(), countBytes(imageChunks(file, this.deps.chunkBytes), metrics), part.mimeType, this.aborted.signal);
      return { object, contentType: part.mimeType, filename: safeFileName(part.filename) };
    } finally {
      metrics.inflightUploads.dec();
    }
  }

  abort(err: unknown): void {
    this.aborted.abort(err);
  }

  async discard(upload: StoredUpload): Promise<void> {
    await this.deps.store.delete(upload.object.key);
  }
}

async function* countBytes(chunks: AsyncIterable<Buffer>, metrics: Metrics): AsyncGenerator<Buffer> {
  for await (const chunk of chunks) {
    metrics.bytesRelayed.inc({ mode: 's3' }, chunk.length);
    yield chunk;
  }
}

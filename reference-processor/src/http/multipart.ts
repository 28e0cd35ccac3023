import { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import busboy from 'busboy';
import { ProcessorError, UnsupportedTypeError, invalidArgument } from '../core/errors';
import { IngestedFile, ingestToFile } from '../core/ingest';
import { Workspace } from '../core/workspace';
import { acceptableDeclaredType } from '@artorizer/contract';

export interface MultipartUpload {
  fields: Record<string, string>;
  file?: IngestedFile;
  contentType?: string;
  filename?: string;
}

export const MULTIPART_LIMITS = { fields: 100, fieldSize: 64 * 1024, parts: 110, files: 1 } as const;

/**
 * Reads a multipart body: form fields, and the `file` part streamed to an incoming file (not
 * written at all when its declared type is refused). On any failure the file is removed.
 */
export function receiveMultipart(req: IncomingMessage, workspace: Workspace, maxBytes: number): Promise<MultipartUpload> {
  return new Promise((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      parser = busboy({ headers: req.headers, limits: { ...MULTIPART_LIMITS, fileSize: maxBytes + 1 } });
    } catch {
      reject(invalidArgument('malformed multipart request'));
      return;
    }
    const upload: MultipartUpload = { fields: {} };
    let pending: Promise<void> = Promise.resolve();
    let failed: unknown;
    let settled = false;
    const fail = (err: unknown) => {
      failed ??= err;
    };
    const finish = () => {
      if (settled) return;
      settled = true;
      void pending.then(async () => {
        if (failed === undefined) return resolve(upload);
        if (upload.file) await workspace.discard(upload.file.path);
        reject(failed instanceof ProcessorError ? failed : invalidArgument('malformed multipart body'));
      });
    };
    parser.on('field', (name, value) => {
      upload.fields[name] = value;
    });
    parser.on('file', (name, stream: Readable, info) => {
      // busboy destroys a part with an error on a truncated form; the form's own error reports it.
      stream.on('error', () => undefined);
      if (name !== 'file' || upload.contentType !== undefined) {
        stream.resume();
        return;
      }
      upload.contentType = info.mimeType;
      upload.filename = info.filename;
      if (!acceptableDeclaredType(info.mimeType)) {
        fail(new UnsupportedTypeError(info.mimeType));
        stream.resume();
        return;
      }
      // Keep the part alive when ingest gives up, and drain it, or busboy never finishes.
      const chunks = stream.iterator({ destroyOnReturn: false });
      pending = ingestToFile(chunks, workspace.incomingPath(), { maxBytes }).then(
        (file) => {
          upload.file = file;
        },
        (err: unknown) => {
          fail(err);
          stream.resume();
        },
      );
    });
    for (const limit of ['partsLimit', 'filesLimit', 'fieldsLimit'] as const) {
      parser.on(limit, () => fail(invalidArgument(`too many parts (${limit.replace('Limit', '')} limit reached)`)));
    }
    parser.on('error', () => {
      fail(invalidArgument('malformed or truncated multipart body'));
      finish();
    });
    parser.on('close', finish);
    req.on('aborted', () => parser.destroy(new Error('client aborted')));
    req.pipe(parser);
  });
}

import { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { FilePart, FormError, FormFailure, FormSink, readForm } from '@artorizer/service-kit';
import { ImageTooLargeError, ProcessorError, UnsupportedTypeError, invalidArgument } from '../core/errors';
import { IngestedFile, ingestToFile } from '../core/ingest';
import { Workspace } from '../core/workspace';
import { acceptableDeclaredType } from '@artorizer/contract';

export interface MultipartUpload {
  fields: Record<string, string>;
  file?: IngestedFile;
  contentType?: string;
  filename?: string;
}

/** The original API's wording of the form's refusals, which its clients see (the rest keep the reader's). */
const ORIGINAL_WORDING: Partial<Record<FormFailure, string>> = {
  no_boundary: 'malformed multipart request',
  too_many_fields: 'too many parts (fields limit reached)',
  too_many_parts: 'too many parts (parts limit reached)',
  too_many_files: 'too many parts (files limit reached)',
};

/** The `file` part into an incoming file of the workspace (not written at all when its declared type is refused). */
class WorkspaceSink implements FormSink<IngestedFile> {
  constructor(
    private readonly workspace: Workspace,
    private readonly maxBytes: number,
  ) {}

  async open(file: Readable, part: FilePart): Promise<IngestedFile> {
    if (!acceptableDeclaredType(part.mimeType)) throw new UnsupportedTypeError(part.mimeType);
    // Keep the part alive when ingest gives up, so the form reader can drain it.
    return ingestToFile(file.iterator({ destroyOnReturn: false }), this.workspace.incomingPath(), { maxBytes: this.maxBytes });
  }

  discard(file: IngestedFile): Promise<void> {
    return this.workspace.discard(file.path);
  }
}

function processorError(err: unknown, maxBytes: number): ProcessorError {
  if (err instanceof ProcessorError) return err;
  if (!(err instanceof FormError)) return invalidArgument('malformed multipart body');
  if (err.reason === 'too_large') return new ImageTooLargeError(maxBytes);
  return invalidArgument(ORIGINAL_WORDING[err.reason] ?? err.message);
}

/**
 * Reads a multipart body: form fields, and the `file` part streamed to an incoming file. On
 * any failure the file is removed.
 */
export async function receiveMultipart(req: IncomingMessage, workspace: Workspace, maxBytes: number): Promise<MultipartUpload> {
  try {
    const { fields, file } = await readForm(req, { maxFileBytes: maxBytes, fileFields: ['file'] }, new WorkspaceSink(workspace, maxBytes));
    return file ? { fields, file: file.result, contentType: file.part.mimeType, filename: file.part.filename } : { fields };
  } catch (err) {
    throw processorError(err, maxBytes);
  }
}

import { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import busboy from 'busboy';

/** What a multipart form may hold, in either service; only the file size is the deployment's (MAX_FILE_SIZE). */
export const FORM_LIMITS = { fields: 100, parts: 110, files: 1, fieldSize: 64 * 1024 } as const;

/** The field names the file is taken from; a file part under any other name is read and dropped. */
export const FILE_FIELDS: readonly string[] = ['image', 'file'];

export type FormFailure = 'no_boundary' | 'malformed' | 'too_many_fields' | 'too_many_parts' | 'too_many_files' | 'too_large' | 'late_field' | 'hung_up';

/** Why a form was refused: the HTTP status and client-facing message (and body fields) it should produce. */
export class FormError extends Error {
  constructor(
    readonly reason: FormFailure,
    readonly status: number,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'FormError';
  }
}

export function exceedsMaximumSize(maxBytes: number): string {
  return `image exceeds the maximum size of ${maxBytes} bytes`;
}

const refusals = {
  noBoundary: () => new FormError('no_boundary', 400, 'malformed multipart request (missing boundary)'),
  malformed: () => new FormError('malformed', 400, 'malformed or truncated multipart body'),
  tooManyFields: () => new FormError('too_many_fields', 400, `too many fields (limit ${FORM_LIMITS.fields})`),
  tooManyParts: () => new FormError('too_many_parts', 400, `too many parts (limit ${FORM_LIMITS.parts})`),
  tooManyFiles: () => new FormError('too_many_files', 400, 'only one image file per request'),
  tooLarge: (max: number) => new FormError('too_large', 413, exceedsMaximumSize(max), { field: 'image', max_bytes: max }),
  lateField: (name: string) =>
    new FormError('late_field', 400, `field "${name}" arrived after the image had started streaming; send metadata fields before the file, or all of them after it`, { field: name }),
  hungUp: () => new FormError('hung_up', 499, 'client disconnected during upload'),
};

/** The file part as the client declared it. */
export interface FilePart {
  field: string;
  /** Unset for a part sent without one (only its type made it a file). */
  filename: string | undefined;
  mimeType: string;
}

/** Where the file goes: the one thing each upload path supplies. */
export interface FormSink<T> {
  /**
   * Takes the file: reads `file` (only as fast as it reads does the request come in) and
   * resolves once all of it is where it goes. Called at once when the part begins, with the
   * fields that came before it (the same record goes on to collect those after it). When it
   * rejects, or the file stream is destroyed under it, it removes what it had written itself:
   * `discard` is only for what a resolved `open` stored.
   */
  open(file: Readable, part: FilePart, fieldsBefore: Readonly<Record<string, string>>): Promise<T>;
  /** Whether a field that comes after the file began refuses the form (its destination already has the fields). */
  refusesLateField?(name: string): boolean;
  /** The form failed (once, at once, whatever failed): stop sending. The file stream is destroyed right after. */
  abort?(err: unknown): void;
  /** After a failure, once `open` had resolved: remove what it stored. */
  discard?(result: T): Promise<void>;
}

export interface FormOptions {
  /** The file's size limit; one byte more is refused with 413. */
  maxFileBytes: number;
  fileFields?: readonly string[];
}

export interface Form<T> {
  fields: Record<string, string>;
  file?: { part: FilePart; result: T };
}

/**
 * Reads a multipart request: its fields, and its one file into `sink`. Settles only once the
 * sink's work has: on any failure (a limit, a malformed body, a client that hangs up, the
 * sink's own error) the sink is aborted, the file stream destroyed, the rest of the request
 * drained unread, what the sink stored discarded, and then the first failure is thrown.
 */
export function readForm<T>(req: IncomingMessage, options: FormOptions, sink: FormSink<T>): Promise<Form<T>> {
  let parser: busboy.Busboy;
  try {
    // one over the limit, so that busboy's signals mean over it: it sets `truncated` on reaching the
    // file size, and emits 'partsLimit' as the limit-th part ends (unlike fields and files, refused from the one after)
    parser = busboy({ headers: req.headers, limits: { ...FORM_LIMITS, parts: FORM_LIMITS.parts + 1, fileSize: options.maxFileBytes + 1 } });
  } catch {
    return Promise.reject(refusals.noBoundary());
  }
  return new FormReader(req, parser, options, sink).read();
}

interface OpenFile<T> {
  stream: Readable;
  part: FilePart;
  /** Settles once the sink is done with the file (never rejects: a failure goes to `fail`). */
  task: Promise<void>;
  /** Set when the sink's `open` resolved. */
  opened?: { result: T };
}

class FormReader<T> {
  private readonly fields: Record<string, string> = {};
  private readonly fileFields: readonly string[];
  private file?: OpenFile<T>;
  private failure?: { err: unknown };
  private readonly failed: Promise<void>;
  private signalFailure!: () => void;

  constructor(
    private readonly req: IncomingMessage,
    private readonly parser: busboy.Busboy,
    private readonly options: FormOptions,
    private readonly sink: FormSink<T>,
  ) {
    this.fileFields = options.fileFields ?? FILE_FIELDS;
    this.failed = new Promise((resolve) => (this.signalFailure = resolve));
  }

  async read(): Promise<Form<T>> {
    const { parser, req } = this;
    const ended = new Promise<void>((resolve) => parser.on('close', resolve));
    parser.on('error', () => this.fail(refusals.malformed()));
    parser.on('field', (name, value) => this.onField(name, value));
    parser.on('file', (name, stream, info) => this.onFile(name, stream, info));
    parser.on('filesLimit', () => this.fail(refusals.tooManyFiles()));
    parser.on('fieldsLimit', () => this.fail(refusals.tooManyFields()));
    parser.on('partsLimit', () => this.fail(refusals.tooManyParts()));
    req.on('close', () => {
      if (!req.complete) this.fail(refusals.hungUp());
    });
    req.pipe(parser);

    await Promise.race([ended, this.failed]);
    await this.file?.task;
    if (!this.failure) return { fields: this.fields, file: this.file?.opened && { part: this.file.part, result: this.file.opened.result } };
    // the first failure is what the caller is told; what a failed discard leaves is the sweeps' (stale files, incomplete uploads, retention)
    if (this.file?.opened) await this.sink.discard?.(this.file.opened.result)?.catch(() => undefined);
    throw this.failure.err;
  }

  private fail(err: unknown): void {
    if (this.failure) return;
    this.failure = { err };
    this.sink.abort?.(err);
    // a hung-up client's file never ends by itself: this ends what still reads it
    this.file?.stream.destroy();
    this.req.unpipe(this.parser);
    this.req.resume();
    this.signalFailure();
  }

  private onField(name: string, value: string): void {
    if (this.failure) return;
    if (this.file && this.sink.refusesLateField?.(name)) return this.fail(refusals.lateField(name));
    this.fields[name] = value;
  }

  private onFile(name: string, stream: Readable & { truncated?: boolean }, info: busboy.FileInfo): void {
    // busboy destroys a part with an error on a truncated form; the form's own error reports it.
    stream.on('error', () => undefined);
    if (!this.fileFields.includes(name) || this.file || this.failure) {
      stream.resume();
      return;
    }
    const part: FilePart = { field: name, filename: info.filename, mimeType: info.mimeType };
    let opening: Promise<T>;
    // Opened now, not a tick later: a field right behind the file must find the sink open.
    try {
      opening = this.sink.open(stream, part, this.fields);
    } catch (err) {
      opening = Promise.reject(err);
    }
    const file: OpenFile<T> = { stream, part, task: Promise.resolve() };
    this.file = file;
    file.task = opening.then(
      (result) => {
        file.opened = { result };
        if (stream.truncated) this.fail(refusals.tooLarge(this.options.maxFileBytes));
      },
      (err: unknown) => {
        this.fail(err);
        stream.resume();
      },
    );
  }
}

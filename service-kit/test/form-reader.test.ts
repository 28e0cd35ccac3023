import { once } from 'node:events';
import http from 'node:http';
import net from 'node:net';
import { Readable } from 'node:stream';
import { FORM_LIMITS, FilePart, Form, FormError, FormOptions, FormSink, readForm } from '../src';

/* The multipart form reader, over real HTTP requests: what a sink is handed, the limits, the one-file rule, failures and their clean-up. */
const BOUNDARY = 'form-reader-boundary';
const TYPE = `multipart/form-data; boundary=${BOUNDARY}`;
const MAX = 64 * 1024;

/** A field, a file, or a part that is neither (not form data: busboy skips it, but counts it as a part). */
type Part = { name: string; value: string } | { name: string; filename: string; type: string; data: Buffer } | { notFormData: string };

function multipart(parts: Part[], close = true): Buffer {
  const out: Buffer[] = [];
  for (const part of parts) {
    if ('notFormData' in part) {
      out.push(Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: attachment\r\n\r\n${part.notFormData}\r\n`));
      continue;
    }
    if ('value' in part) {
      out.push(Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="${part.name}"\r\n\r\n${part.value}\r\n`));
      continue;
    }
    out.push(Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="${part.name}"; filename="${part.filename}"\r\nContent-Type: ${part.type}\r\n\r\n`));
    out.push(part.data, Buffer.from('\r\n'));
  }
  if (close) out.push(Buffer.from(`--${BOUNDARY}--\r\n`));
  return Buffer.concat(out);
}

const image = (bytes: number, name = 'image'): Part => ({ name, filename: 'a.png', type: 'image/png', data: Buffer.alloc(bytes, 7) });

/** Records what the reader asks of it; reads the whole file unless told to wait or fail. */
class Recorder implements FormSink<Buffer> {
  readonly events: string[] = [];
  fieldsBefore?: Record<string, string>;
  part?: FilePart;
  aborted?: unknown;
  discarded?: Buffer;
  /** Resolves once the file's first bytes were read. */
  readonly firstBytes: Promise<void>;
  private gotBytes!: () => void;

  constructor(private readonly behaviour: { refuseLateFields?: boolean; failWith?: Error } = {}) {
    this.firstBytes = new Promise((resolve) => (this.gotBytes = resolve));
  }

  async open(file: Readable, part: FilePart, fieldsBefore: Readonly<Record<string, string>>): Promise<Buffer> {
    this.events.push('open');
    this.part = part;
    this.fieldsBefore = { ...fieldsBefore };
    const chunks: Buffer[] = [];
    try {
      for await (const chunk of file) {
        chunks.push(chunk as Buffer);
        this.gotBytes();
        if (this.behaviour.failWith) throw this.behaviour.failWith;
      }
      return Buffer.concat(chunks);
    } finally {
      this.events.push('open settled');
    }
  }

  refusesLateField(): boolean {
    return this.behaviour.refuseLateFields === true;
  }

  abort(err: unknown): void {
    this.events.push('abort');
    this.aborted = err;
  }

  async discard(result: Buffer): Promise<void> {
    this.events.push('discard');
    this.discarded = result;
  }
}

let server: http.Server;
let port: number;
let reading: (req: http.IncomingMessage, res: http.ServerResponse) => void = (_req, res) => res.end();

beforeAll(async () => {
  server = http.createServer((req, res) => reading(req, res));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  port = (server.address() as net.AddressInfo).port;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

/** The form of the next request, read into `sink`. */
function nextForm<T>(sink: FormSink<T>, options: FormOptions = { maxFileBytes: MAX }): Promise<Form<T>> {
  return new Promise((resolve, reject) => {
    reading = (req, res) => {
      readForm(req, options, sink).then(
        (form) => {
          res.end('ok');
          resolve(form);
        },
        (err: unknown) => {
          res.writeHead(400, { Connection: 'close' }).end();
          reject(err);
        },
      );
    };
  });
}

function post(body: Buffer, contentType = TYPE): void {
  fetch(`http://127.0.0.1:${port}/`, { method: 'POST', headers: { 'Content-Type': contentType }, body }).then(
    (res) => res.arrayBuffer(),
    () => undefined,
  );
}

/** Sends the request head (declaring the whole body) and the first `cut` bytes; the test hangs up when it chooses. */
async function sendPart(body: Buffer, cut: number): Promise<net.Socket> {
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => undefined);
  await once(socket, 'connect');
  socket.write(`POST / HTTP/1.1\r\nHost: x\r\nContent-Type: ${TYPE}\r\nContent-Length: ${body.length}\r\n\r\n`);
  socket.write(body.subarray(0, cut));
  return socket;
}

const refusal = (reason: string, status: number, message: string | RegExp, extra: Record<string, unknown> = {}) => ({ reason, status, message, extra });

describe('a well-formed form', () => {
  it('hands the sink the file with the fields before it, and collects those after it', async () => {
    const sink = new Recorder();
    const form = nextForm(sink);
    post(multipart([{ name: 'artist_name', value: 'Jane' }, image(1000), { name: 'artwork_title', value: 'Late' }]));
    const { fields, file } = await form;
    expect(sink.fieldsBefore).toEqual({ artist_name: 'Jane' });
    expect(fields).toEqual({ artist_name: 'Jane', artwork_title: 'Late' });
    expect(file).toEqual({ part: { field: 'image', filename: 'a.png', mimeType: 'image/png' }, result: Buffer.alloc(1000, 7) });
    expect(sink.events).toEqual(['open', 'open settled']);
  });

  it('is fields only when there is no file', async () => {
    const sink = new Recorder();
    const form = nextForm(sink);
    post(multipart([{ name: 'image_url', value: 'https://example.com/a.png' }]));
    expect(await form).toEqual({ fields: { image_url: 'https://example.com/a.png' }, file: undefined });
    expect(sink.events).toEqual([]);
  });

  it('takes the file from "image" or "file", or from the names it is given', async () => {
    const asFile = new Recorder();
    const fromFile = nextForm(asFile);
    post(multipart([image(10, 'file')]));
    expect((await fromFile).file?.part.field).toBe('file');

    const onlyFile = new Recorder();
    const fromImage = nextForm(onlyFile, { maxFileBytes: MAX, fileFields: ['file'] });
    post(multipart([image(10, 'image')]));
    expect((await fromImage).file).toBeUndefined();
    expect(onlyFile.events).toEqual([]);
  });

  it('takes a file of exactly the maximum size', async () => {
    const sink = new Recorder();
    const form = nextForm(sink);
    post(multipart([image(MAX)]));
    expect((await form).file?.result.length).toBe(MAX);
  });
});

describe('the limits', () => {
  it('refuses a file one byte over the maximum with 413, and discards what the sink stored', async () => {
    const sink = new Recorder();
    const form = nextForm(sink);
    post(multipart([image(MAX + 1)]));
    await expect(form).rejects.toMatchObject(refusal('too_large', 413, `image exceeds the maximum size of ${MAX} bytes`, { field: 'image', max_bytes: MAX }));
    expect(sink.events).toEqual(['open', 'open settled', 'abort', 'discard']);
    expect(sink.discarded?.length).toBe(MAX + 1);
  });

  it('refuses more fields than the limit', async () => {
    const sink = new Recorder();
    const form = nextForm(sink);
    post(multipart(Array.from({ length: FORM_LIMITS.fields + 1 }, (_, i) => ({ name: `f${i}`, value: 'x' }))));
    await expect(form).rejects.toMatchObject(refusal('too_many_fields', 400, 'too many fields (limit 100)'));
    expect(sink.aborted).toBeInstanceOf(FormError);
  });

  it('takes a form of exactly the parts limit, counting parts that are neither fields nor files', async () => {
    const sink = new Recorder();
    const form = nextForm(sink);
    const skipped = Array.from({ length: FORM_LIMITS.parts - 2 }, (): Part => ({ notFormData: 'x' }));
    post(multipart([{ name: 'artist_name', value: 'Jane' }, ...skipped, image(100)]));
    const { fields, file } = await form;
    expect(fields).toEqual({ artist_name: 'Jane' });
    expect(file?.result.length).toBe(100);
  });

  it('refuses one part more than the limit, before the file it would have reached', async () => {
    const sink = new Recorder();
    const form = nextForm(sink);
    const skipped = Array.from({ length: FORM_LIMITS.parts }, (): Part => ({ notFormData: 'x' }));
    post(multipart([{ name: 'artist_name', value: 'Jane' }, ...skipped, image(100)]));
    await expect(form).rejects.toMatchObject(refusal('too_many_parts', 400, `too many parts (limit ${FORM_LIMITS.parts})`));
    expect(sink.events).not.toContain('open');
  });

  it('takes one file: a second refuses the form, and the sink is aborted', async () => {
    const sink = new Recorder();
    const form = nextForm(sink);
    post(multipart([image(100), image(100)]));
    await expect(form).rejects.toMatchObject(refusal('too_many_files', 400, 'only one image file per request'));
    expect(sink.events.filter((e) => e === 'open')).toHaveLength(1);
    expect(sink.events).toContain('abort');
    // whether the first file was all read or cut short, nothing of it is kept
    expect(sink.events.includes('discard')).toBe(sink.discarded !== undefined);
  });

  it('counts a file under another name as the one file: an image after it is refused, unread', async () => {
    const sink = new Recorder();
    const form = nextForm(sink);
    post(multipart([image(100, 'attachment'), image(100)]));
    await expect(form).rejects.toMatchObject(refusal('too_many_files', 400, 'only one image file per request'));
    expect(sink.events).toEqual(['abort']);
  });
});

describe('the order of fields and file', () => {
  it('refuses a field after the file began when the sink says so, naming the field', async () => {
    const sink = new Recorder({ refuseLateFields: true });
    const form = nextForm(sink);
    post(multipart([{ name: 'artist_name', value: 'Jane' }, image(100), { name: 'tags', value: 'late' }]));
    await expect(form).rejects.toMatchObject(refusal('late_field', 400, /^field "tags" arrived after the image had started streaming/, { field: 'tags' }));
    expect(sink.aborted).toMatchObject({ reason: 'late_field' });
  });
});

describe('malformed requests', () => {
  it('refuses a multipart type without a boundary, before reading anything', async () => {
    const sink = new Recorder();
    const form = nextForm(sink);
    post(multipart([image(10)]), 'multipart/form-data');
    await expect(form).rejects.toMatchObject(refusal('no_boundary', 400, 'malformed multipart request (missing boundary)'));
    expect(sink.events).toEqual([]);
  });

  it('refuses a body that ends inside the file, and the sink sees its file end early', async () => {
    const sink = new Recorder();
    const form = nextForm(sink);
    post(multipart([{ name: 'artist_name', value: 'Jane' }, image(1000)], false).subarray(0, -100));
    await expect(form).rejects.toMatchObject(refusal('malformed', 400, 'malformed or truncated multipart body'));
    expect(sink.events).toEqual(['open', 'abort', 'open settled']);
  });
});

describe('failures while the file arrives', () => {
  it('on a hang-up mid-file aborts the sink, ends its file, and settles only once the sink has', async () => {
    const sink = new Recorder();
    const form = nextForm(sink);
    const body = multipart([{ name: 'artist_name', value: 'Jane' }, image(MAX)]);
    const socket = await sendPart(body, body.length / 2);
    await sink.firstBytes;
    socket.destroy();
    await expect(form).rejects.toMatchObject(refusal('hung_up', 499, 'client disconnected during upload'));
    expect(sink.events).toEqual(['open', 'abort', 'open settled']);
  });

  it("fails with the sink's own error, which the sink is told of too", async () => {
    const broken = new Error('the store went away');
    const sink = new Recorder({ failWith: broken });
    const form = nextForm(sink);
    post(multipart([image(MAX), { name: 'artist_name', value: 'Jane' }]));
    await expect(form).rejects.toBe(broken);
    expect(sink.aborted).toBe(broken);
    expect(sink.events).toEqual(['open', 'open settled', 'abort']);
  });
});

import { PassThrough, Readable } from 'node:stream';
import { status } from '@grpc/grpc-js';
import { SubmitJobRequest, jobSpecFromFields } from '@artorizer/contract';
import { UploadItem, readSubmitJob } from '../../src/grpc/submit-job-frames';

const MAX = 4 * 1024 * 1024;

function frame(message: Uint8Array, flag = 0): Buffer {
  const header = Buffer.alloc(5);
  header[0] = flag;
  header.writeUInt32BE(message.length, 1);
  return Buffer.concat([header, message]);
}

const encoded = (request: SubmitJobRequest) => Buffer.from(SubmitJobRequest.encode(request).finish());
const specMessage = () => encoded({ payload: { $case: 'spec', spec: jobSpecFromFields({ artist_name: 'A', artwork_title: 'T' }) } });
const chunkMessage = (bytes: Buffer) => encoded({ payload: { $case: 'chunk', chunk: bytes } });

/** The bytes cut into the given piece sizes (the last piece takes the rest), as DATA frames would arrive. */
function cut(bytes: Buffer, sizes: number[]): Buffer[] {
  const pieces: Buffer[] = [];
  let at = 0;
  for (const size of [...sizes, bytes.length - sizes.reduce((a, b) => a + b, 0)]) {
    // each piece in memory of its own, as each frame is
    const piece = Buffer.alloc(size);
    bytes.copy(piece, 0, at, at + size);
    pieces.push(piece);
    at += size;
  }
  return pieces;
}

async function items(pieces: Buffer[], max = MAX): Promise<UploadItem[]> {
  const out: UploadItem[] = [];
  for await (const item of readSubmitJob(Readable.from(pieces), max).items) out.push(item);
  return out;
}

async function failure(pieces: Buffer[] | Readable, max = MAX): Promise<{ code?: number; message: string }> {
  const source = Array.isArray(pieces) ? Readable.from(pieces) : pieces;
  try {
    for await (const item of readSubmitJob(source, max).items) void item;
  } catch (err) {
    return err as { code?: number; message: string };
  }
  throw new Error('the stream was read without a failure');
}

describe('readSubmitJob: a SubmitJob request read off its DATA frames', () => {
  const image = Buffer.from(Array.from({ length: 100_000 }, (_, i) => (i * 7) % 251));

  it('decodes the spec and passes a chunk on as views of the frames it arrived in, however the frames cut the messages', async () => {
    const wire = Buffer.concat([frame(specMessage()), frame(chunkMessage(image))]);
    // cuts inside the spec's gRPC header, inside the chunk's, right after its tag, inside its
    // length (a 3-byte varint), and through its bytes
    const specFrame = specMessage().length + 5;
    const pieces = cut(wire, [3, 40, specFrame + 1 - 43, 2, 3, 1, 16_384, 16_384, 7]);
    const got = await items(pieces);

    expect(got).toHaveLength(2);
    expect('message' in got[0] && got[0].message.payload?.$case).toBe('spec');
    const chunk = got[1];
    if (!('pieces' in chunk)) throw new Error('the chunk was decoded whole');
    expect(Buffer.concat(chunk.pieces).equals(image)).toBe(true);
    expect(chunk.pieces.length).toBeGreaterThan(1);
    // the chunk's head was cut by a frame's end, so its tag and length came in a copy of at most
    // 6 bytes, and with them the first image bytes; every other piece is a view of a frame
    const [first, ...rest] = chunk.pieces;
    expect(first.length).toBeLessThan(6);
    for (const piece of rest) expect(pieces.some((p) => p.buffer === piece.buffer)).toBe(true);
  });

  it('decodes whole any message that is not exactly one chunk field: an abort, an empty chunk, a chunk followed by another field', async () => {
    const abort = encoded({ payload: { $case: 'abort', abort: { reason: 'gone' } } });
    const emptyChunk = chunkMessage(Buffer.alloc(0));
    // the chunk field, then the abort field: the last field of a oneof wins
    const chunkThenAbort = Buffer.concat([chunkMessage(Buffer.from('abc')), abort]);
    const got = await items([frame(abort), frame(emptyChunk), frame(chunkThenAbort), frame(Buffer.alloc(0))]);

    expect(got.map((item) => ('message' in item ? (item.message.payload?.$case ?? 'none') : 'pieces'))).toEqual(['abort', 'chunk', 'abort', 'none']);
  });

  it('refuses a message over the limit with RESOURCE_EXHAUSTED, before reading it', async () => {
    const err = await failure([frame(chunkMessage(Buffer.alloc(2048)))], 1024);
    expect(err.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(err.message).toMatch(/larger than max/);
  });

  it('refuses a compressed message (the stream said identity) and a stream that ends inside a message with INTERNAL', async () => {
    expect((await failure([frame(specMessage(), 1)])).code).toBe(status.INTERNAL);
    const wire = frame(chunkMessage(image));
    expect((await failure([wire.subarray(0, 3)])).code).toBe(status.INTERNAL);
    expect((await failure([wire.subarray(0, 5000)])).code).toBe(status.INTERNAL);
  });

  it('reads a stream closed before its end (a reset) as a cancelled upload, not as the end of the image', async () => {
    const source = new PassThrough();
    source.write(frame(specMessage()));
    source.write(frame(chunkMessage(image)));
    const read = failure(source);
    setImmediate(() => source.destroy());
    expect((await read).code).toBe(status.CANCELLED);
  });
});

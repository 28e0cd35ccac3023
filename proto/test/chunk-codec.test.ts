import { SubmitJobRequest } from '../gen/artorizer/v1/artorizer';
import { CHUNK_HEADER_ROOM, allocChunkBuffer, decodeSubmitJobRequest, encodeSubmitJobRequest, frameSubmitJobRequest, isChunkBuffer } from '../src/chunk-codec';

/* SubmitJob's chunk messages encoded and decoded without copies, byte-compatible with the generated codec. */
const FRAME_HEADER_ROOM = Symbol.for('grpc-js.frameHeaderRoom');

function chunkMessage(chunk: Buffer): SubmitJobRequest {
  return { payload: { $case: 'chunk', chunk } };
}

describe('chunk codec', () => {
  it.each([0, 1, 127, 128, 16383, 16384, 1048572])('encodes a %i-byte chunk exactly as the generated encoder does', (size) => {
    const chunk = allocChunkBuffer(size).fill(7);
    const generated = Buffer.from(SubmitJobRequest.encode(chunkMessage(Buffer.alloc(size, 7))).finish());
    expect(encodeSubmitJobRequest(chunkMessage(chunk)).equals(generated)).toBe(true);
  });

  it('writes the header into the room in front of a chunk buffer and marks the room left for the gRPC frame', () => {
    const chunk = allocChunkBuffer(1000).fill(1);
    const encoded = encodeSubmitJobRequest(chunkMessage(chunk));
    expect(encoded.buffer).toBe(chunk.buffer);
    expect(encoded.byteOffset).toBeGreaterThanOrEqual(5);
    expect(encoded.byteOffset + encoded.length).toBe(CHUNK_HEADER_ROOM + 1000);
    expect((encoded as Buffer & Record<symbol, unknown>)[FRAME_HEADER_ROOM]).toBe(true);
  });

  it('copies a chunk it does not own and leaves the bytes around it alone', () => {
    const shared = Buffer.alloc(300, 9);
    const view = shared.subarray(100, 200);
    const encoded = encodeSubmitJobRequest(chunkMessage(view));
    expect(encoded.buffer).not.toBe(shared.buffer);
    expect(shared.equals(Buffer.alloc(300, 9))).toBe(true);
    expect((encoded as Buffer & Record<symbol, unknown>)[FRAME_HEADER_ROOM]).toBeUndefined();
    expect(SubmitJobRequest.decode(encoded)).toEqual(chunkMessage(Buffer.alloc(100, 9)));
  });

  it.each([
    ['a chunk buffer', (size: number) => allocChunkBuffer(size).fill(5)],
    ['a view into another buffer', (size: number) => Buffer.alloc(size + 20, 5).subarray(10, 10 + size)],
  ])('frames %s as gRPC does: prefix and the generated encoding', (_kind, chunkOf) => {
    for (const size of [0, 1, 127, 128, 70000]) {
      const chunk = chunkOf(size);
      const generated = Buffer.from(SubmitJobRequest.encode(chunkMessage(Buffer.alloc(size, 5))).finish());
      const framed = frameSubmitJobRequest(chunkMessage(chunk));
      expect(framed[0]).toBe(0);
      expect(framed.readUInt32BE(1)).toBe(generated.length);
      expect(framed.subarray(5).equals(generated)).toBe(true);
    }
  });

  it('frames a chunk that is not a chunk buffer in a buffer of its own, leaving the bytes around it alone', () => {
    const shared = Buffer.alloc(300, 9);
    const framed = frameSubmitJobRequest(chunkMessage(shared.subarray(100, 200)));
    expect(framed.buffer).not.toBe(shared.buffer);
    expect(shared.equals(Buffer.alloc(300, 9))).toBe(true);
  });

  it('treats only the start of a chunk buffer as having room', () => {
    const chunk = allocChunkBuffer(100);
    expect(isChunkBuffer(chunk)).toBe(true);
    expect(isChunkBuffer(chunk.subarray(0, 50))).toBe(true);
    expect(isChunkBuffer(chunk.subarray(10))).toBe(false);
  });

  it('decodes a chunk message as a view of the received buffer, and anything else with the generated decoder', () => {
    const wire = Buffer.from(SubmitJobRequest.encode(chunkMessage(Buffer.alloc(5000, 3))).finish());
    const decoded = decodeSubmitJobRequest(wire);
    expect(decoded.payload?.$case).toBe('chunk');
    const chunk = (decoded.payload as { chunk: Buffer }).chunk;
    expect(chunk.buffer).toBe(wire.buffer);
    expect(chunk.equals(Buffer.alloc(5000, 3))).toBe(true);
    const spec: SubmitJobRequest = { payload: { $case: 'abort', abort: { reason: 'gone' } } };
    expect(decodeSubmitJobRequest(encodeSubmitJobRequest(spec))).toEqual(spec);
  });
});

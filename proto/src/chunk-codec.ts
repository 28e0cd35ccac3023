import { ChannelCredentials, ClientOptions, makeGenericClientConstructor } from '@grpc/grpc-js';
import { ProcessorServiceClient, ProcessorServiceService, SubmitJobRequest } from '../gen/artorizer/v1/artorizer';

/**
 * SubmitJob's image chunks without the generated codec's copies.
 *
 * The generated encoder copies each chunk twice before grpc-js frames it (into its growing
 * writer, then `Buffer.from` of the result), and the generated decoder copies it once more
 * (`Buffer.from(reader.bytes())`). A message that is exactly one `chunk` field is a 1-byte
 * tag, a length varint and the bytes, so both ends can do without: a chunk held in a buffer
 * from `allocChunkBuffer` gets its tag and length written into the room kept in front of it
 * and is handed to grpc-js as it is; on the receiving side such a message becomes a view of
 * the buffer grpc-js assembled for it (nothing else keeps that buffer). Every other message
 * goes through the generated codec.
 */

/** field 2 (`chunk`), wire type 2 (length-delimited) */
const CHUNK_TAG = (2 << 3) | 2;
/** The tag and the longest length varint a chunk under 4 GiB needs. */
export const CHUNK_HEADER_ROOM = 11;
const FRAME_HEADER_ROOM = Symbol.for('grpc-js.frameHeaderRoom');

const withRoom = new WeakSet<ArrayBufferLike>();

/** A buffer for `payloadBytes` of image bytes with room for the message header in front. */
export function allocChunkBuffer(payloadBytes: number): Buffer {
  // its own ArrayBuffer (never a slice of Node's shared pool): the room in front is ours
  const whole = Buffer.allocUnsafeSlow(CHUNK_HEADER_ROOM + payloadBytes);
  withRoom.add(whole.buffer);
  return whole.subarray(CHUNK_HEADER_ROOM);
}

/** Whether `chunk` starts where `allocChunkBuffer` put the bytes (a whole or shortened chunk buffer). */
export function isChunkBuffer(chunk: Uint8Array): boolean {
  return withRoom.has(chunk.buffer) && chunk.byteOffset === CHUNK_HEADER_ROOM;
}

function varintLength(n: number): number {
  let length = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    length++;
  }
  return length;
}

function writeHeader(target: Buffer, at: number, length: number): void {
  target[at++] = CHUNK_TAG;
  let n = length;
  while (n >= 0x80) {
    target[at++] = (n & 0x7f) | 0x80;
    n = Math.floor(n / 128);
  }
  target[at] = n;
}

/** Bytes of an encoded chunk message carrying `payloadBytes` of image. */
export function encodedChunkBytes(payloadBytes: number): number {
  return 1 + varintLength(payloadBytes) + payloadBytes;
}

export function encodeSubmitJobRequest(message: SubmitJobRequest): Buffer {
  if (message.payload?.$case !== 'chunk') {
    const encoded = SubmitJobRequest.encode(message).finish();
    return Buffer.from(encoded.buffer, encoded.byteOffset, encoded.byteLength);
  }
  const chunk = message.payload.chunk;
  const header = 1 + varintLength(chunk.length);
  // only the room of a chunk buffer: in front of any other view could be someone else's bytes
  if (isChunkBuffer(chunk)) {
    const start = CHUNK_HEADER_ROOM - header;
    const framed = Buffer.from(chunk.buffer, start, header + chunk.length);
    writeHeader(framed, 0, chunk.length);
    (framed as Buffer & { [FRAME_HEADER_ROOM]?: boolean })[FRAME_HEADER_ROOM] = true;
    return framed;
  }
  const framed = Buffer.allocUnsafe(header + chunk.length);
  writeHeader(framed, 0, chunk.length);
  framed.set(chunk, header);
  return framed;
}

/** gRPC's length prefix: a compressed flag (0) and the message's length, big-endian. */
export const GRPC_FRAME_HEADER_BYTES = 5;

/**
 * A SubmitJobRequest as gRPC sends it on the wire: the length prefix, then the encoded message.
 * A chunk held in a buffer from `allocChunkBuffer` is framed in the room in front of it (no copy);
 * any other chunk, and any other message, is copied once behind a fresh prefix.
 */
export function frameSubmitJobRequest(message: SubmitJobRequest): Buffer {
  if (message.payload?.$case === 'chunk' && !isChunkBuffer(message.payload.chunk)) return frameCopiedChunk(message.payload.chunk);
  const encoded = encodeSubmitJobRequest(message) as Buffer & { [FRAME_HEADER_ROOM]?: boolean };
  if (encoded[FRAME_HEADER_ROOM] !== true || encoded.byteOffset < GRPC_FRAME_HEADER_BYTES) return frameGrpcMessage(encoded);
  const framed = Buffer.from(encoded.buffer, encoded.byteOffset - GRPC_FRAME_HEADER_BYTES, encoded.length + GRPC_FRAME_HEADER_BYTES);
  framed[0] = 0;
  framed.writeUInt32BE(encoded.length, 1);
  return framed;
}

/** A chunk in a buffer without room in front: its bytes copied once, behind the length prefix and the message header. */
function frameCopiedChunk(chunk: Uint8Array): Buffer {
  const header = 1 + varintLength(chunk.length);
  const framed = Buffer.allocUnsafe(GRPC_FRAME_HEADER_BYTES + header + chunk.length);
  framed[0] = 0;
  framed.writeUInt32BE(header + chunk.length, 1);
  writeHeader(framed, GRPC_FRAME_HEADER_BYTES, chunk.length);
  framed.set(chunk, GRPC_FRAME_HEADER_BYTES + header);
  return framed;
}

/** Any encoded message behind a fresh length prefix (uncompressed), copied once. */
export function frameGrpcMessage(encoded: Uint8Array): Buffer {
  const framed = Buffer.allocUnsafe(encoded.length + GRPC_FRAME_HEADER_BYTES);
  framed[0] = 0;
  framed.writeUInt32BE(encoded.length, 1);
  framed.set(encoded, GRPC_FRAME_HEADER_BYTES);
  return framed;
}

/** The most bytes a chunk message's tag and length take (a length up to 2^35 - 1). */
export const CHUNK_HEAD_MAX_BYTES = 6;

/**
 * Where the image bytes start in a message of `length` bytes that is exactly one `chunk` field,
 * read from its first bytes (`head`, up to CHUNK_HEAD_MAX_BYTES of them); undefined for any
 * other message.
 */
export function chunkPayloadOffset(head: Uint8Array, length: number): number | undefined {
  if (length < 2 || head[0] !== CHUNK_TAG) return undefined;
  let value = 0;
  let pos = 1;
  for (let shift = 0; shift < 35 && pos < head.length; shift += 7) {
    const byte = head[pos++];
    value += (byte & 0x7f) * 2 ** shift;
    if (byte < 0x80) return pos + value === length ? pos : undefined;
  }
  return undefined;
}

export function decodeSubmitJobRequest(message: Buffer): SubmitJobRequest {
  const at = chunkPayloadOffset(message, message.length);
  if (at !== undefined) return { payload: { $case: 'chunk', chunk: message.subarray(at) } };
  return SubmitJobRequest.decode(message);
}

/** The service definition with SubmitJob's request codec replaced by the one above (both ends). */
export const ProcessorServiceDefinition: typeof ProcessorServiceService = {
  ...ProcessorServiceService,
  submitJob: { ...ProcessorServiceService.submitJob, requestSerialize: encodeSubmitJobRequest, requestDeserialize: decodeSubmitJobRequest },
};

const ChunkCodecClient = makeGenericClientConstructor(ProcessorServiceDefinition, 'artorizer.v1.ProcessorService') as unknown as new (
  address: string,
  credentials: ChannelCredentials,
  options?: Partial<ClientOptions>,
) => ProcessorServiceClient;

/** A ProcessorService client whose SubmitJob chunks are encoded without copies. */
export function createProcessorClient(address: string, credentials: ChannelCredentials, options?: Partial<ClientOptions>): ProcessorServiceClient {
  return new ChunkCodecClient(address, credentials, options);
}

import http2 from 'node:http2';
import net from 'node:net';
import { ServiceError, status as GrpcStatus } from '@grpc/grpc-js';
import { Job, JobState, SubmitJobResponse, allocChunkBuffer, decodeSubmitJobRequest } from '@artorizer/contract';
import { specFor } from '@artorizer/testkit';
import { MAX_RECEIVE_MESSAGE_BYTES, SubmitJobChannel, grpcTimeout } from '../src/grpc/submit-job-channel';
import { BareGrpcServer, grpcFrame, grpcMessages, startBareGrpcServer } from './bare-grpc-server';

/*
 * The router's own SubmitJob client, against a bare HTTP/2 server that answers as a gRPC
 * server would, or as a broken one would: the status of every way a call can end, the bytes
 * on the wire, and a new connection after the old one is gone. The same client against the
 * reference processor is exercised by every upload test of the router.
 */
const servers: BareGrpcServer[] = [];
const channels: SubmitJobChannel[] = [];

afterEach(async () => {
  for (const channel of channels.splice(0)) channel.close();
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function serve(onStream: Parameters<typeof startBareGrpcServer>[0]): Promise<SubmitJobChannel> {
  const server = await startBareGrpcServer(onStream);
  servers.push(server);
  return channelTo(server.address);
}

function channelTo(address: string): SubmitJobChannel {
  const channel = new SubmitJobChannel(address, undefined);
  channels.push(channel);
  return channel;
}

function answerWith(stream: http2.ServerHttp2Stream, jobId: string): void {
  stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
  stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
  stream.end(grpcFrame(SubmitJobResponse.encode({ job: Job.fromPartial({ jobId, state: JobState.JOB_STATE_QUEUED }) }).finish()));
}

/** Opens a call that sends a spec and ends; resolves with its answer or its error, and its reported status. */
async function upload(channel: SubmitJobChannel, deadlineMs = 10_000): Promise<{ outcome: SubmitJobResponse | ServiceError; status: ServiceError | null }> {
  let reported!: (s: ServiceError | null) => void;
  const status = new Promise<ServiceError | null>((resolve) => (reported = resolve));
  const { call, answer } = channel.open({ metadata: { 'x-request-id': 'channel-test' }, deadlineMs, onStatus: reported });
  call.write({ payload: { $case: 'spec', spec: specFor({}) } });
  call.end();
  const outcome = await answer.catch((err: ServiceError) => err);
  return { outcome, status: await status };
}

describe('SubmitJobChannel', () => {
  it('sends the gRPC request headers and length-prefixed messages, a pooled chunk framed in place, and takes the answer', async () => {
    let seen!: { headers: http2.IncomingHttpHeaders; body: Buffer };
    const channel = await serve((stream, headers) => {
      const pieces: Buffer[] = [];
      stream.on('data', (d: Buffer) => pieces.push(d));
      stream.on('end', () => {
        seen = { headers, body: Buffer.concat(pieces) };
        answerWith(stream, 'job-1');
      });
    });
    const chunk = allocChunkBuffer(100_000).fill(7);
    const { call, answer } = channel.open({ metadata: { 'x-request-id': 'req-1' }, deadlineMs: 90_000 });
    call.write({ payload: { $case: 'spec', spec: specFor({}) } });
    await new Promise<void>((resolve) => call.write({ payload: { $case: 'chunk', chunk } }, () => resolve()));
    call.write({ payload: { $case: 'chunk', chunk: Buffer.from('tail') } });
    call.end();
    expect((await answer).job?.jobId).toBe('job-1');
    expect(seen.headers).toMatchObject({
      ':method': 'POST',
      ':path': '/artorizer.v1.ProcessorService/SubmitJob',
      'content-type': 'application/grpc',
      te: 'trailers',
      'grpc-timeout': '90000m',
      'x-request-id': 'req-1',
    });
    const messages = grpcMessages(seen.body).map(decodeSubmitJobRequest);
    expect(messages.map((m) => m.payload?.$case)).toEqual(['spec', 'chunk', 'chunk']);
    const chunks = messages.map((m) => (m.payload?.$case === 'chunk' ? Buffer.from(m.payload.chunk) : undefined));
    expect(chunks[1]!.equals(chunk)).toBe(true);
    expect(chunks[2]!.toString()).toBe('tail');
  });

  it('reports OK once the trailers come, after the answer', async () => {
    const channel = await serve((stream) => {
      stream.on('data', () => undefined);
      stream.on('end', () => answerWith(stream, 'job-ok'));
    });
    const { outcome, status } = await upload(channel);
    expect((outcome as SubmitJobResponse).job?.jobId).toBe('job-ok');
    expect(status).toBeNull();
  });

  it('takes an error answered in the headers alone (trailers-only), with its percent-encoded message', async () => {
    const channel = await serve((stream) => {
      stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '3', 'grpc-message': encodeURIComponent('artist_name: required, ünï') }, { endStream: true });
    });
    const { outcome, status } = await upload(channel);
    expect(outcome).toMatchObject({ code: GrpcStatus.INVALID_ARGUMENT, details: 'artist_name: required, ünï' });
    expect(status?.code).toBe(GrpcStatus.INVALID_ARGUMENT);
  });

  it('takes an error status from the trailers of an answer without a message', async () => {
    const channel = await serve((stream) => {
      stream.on('data', () => undefined);
      stream.on('end', () => {
        stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
        stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '8', 'grpc-message': 'queue full' }));
        stream.end();
      });
    });
    expect((await upload(channel)).outcome).toMatchObject({ code: GrpcStatus.RESOURCE_EXHAUSTED, details: 'queue full' });
  });

  it.each([
    ['a stream refused by the processor', http2.constants.NGHTTP2_REFUSED_STREAM, GrpcStatus.UNAVAILABLE],
    ['a stream reset with an internal error', http2.constants.NGHTTP2_INTERNAL_ERROR, GrpcStatus.INTERNAL],
    // not RESOURCE_EXHAUSTED, which the router answers 413 (image too large): the connection is overloaded, retry later
    ['a stream reset for an overloaded connection', http2.constants.NGHTTP2_ENHANCE_YOUR_CALM, GrpcStatus.UNAVAILABLE],
  ])('maps %s to its gRPC status', async (_what, rstCode, expected) => {
    const channel = await serve((stream) => stream.close(rstCode));
    expect((await upload(channel)).outcome).toMatchObject({ code: expected });
  });

  it('refuses an answer announced larger than the router takes (as grpc-js did), and one it cannot decode, with INTERNAL', async () => {
    const tooLarge = Buffer.alloc(5);
    tooLarge.writeUInt32BE(MAX_RECEIVE_MESSAGE_BYTES + 1, 1);
    const answers = [tooLarge, grpcFrame(Buffer.from([0xff, 0xff, 0xff]))];
    const channel = await serve((stream) => {
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' });
      stream.write(answers.shift()!);
    });
    expect((await upload(channel)).outcome).toMatchObject({ code: GrpcStatus.INTERNAL, details: expect.stringMatching(/announces 8388609 bytes, more than the 8388608 taken/) });
    expect((await upload(channel)).outcome).toMatchObject({ code: GrpcStatus.INTERNAL, details: expect.stringMatching(/^the processor's answer could not be taken/) });
  });

  it('maps an HTTP 503 from something that is not a gRPC server to UNAVAILABLE', async () => {
    const channel = await serve((stream) => stream.respond({ ':status': 503 }, { endStream: true }));
    expect((await upload(channel)).outcome).toMatchObject({ code: GrpcStatus.UNAVAILABLE, details: 'the processor answered HTTP 503' });
  });

  it('fails with DEADLINE_EXCEEDED when no answer comes in time, and resets the stream', async () => {
    let reset!: (code: number) => void;
    const serverSaw = new Promise<number>((resolve) => (reset = resolve));
    const channel = await serve((stream) => {
      stream.on('data', () => undefined);
      stream.on('close', () => reset(stream.rstCode));
    });
    const { outcome, status } = await upload(channel, 200);
    expect(outcome).toMatchObject({ code: GrpcStatus.DEADLINE_EXCEEDED });
    expect(status?.code).toBe(GrpcStatus.DEADLINE_EXCEEDED);
    expect(await serverSaw).toBe(http2.constants.NGHTTP2_CANCEL);
  });

  it('cancels: the processor sees the stream reset (CANCEL) and the call fails CANCELLED', async () => {
    let reset!: (code: number) => void;
    const serverSaw = new Promise<number>((resolve) => (reset = resolve));
    let opened!: () => void;
    const streamOpen = new Promise<void>((resolve) => (opened = resolve));
    const channel = await serve((stream) => {
      stream.on('data', () => undefined);
      stream.on('close', () => reset(stream.rstCode));
      opened();
    });
    const { call, answer } = channel.open({ metadata: {}, deadlineMs: 10_000 });
    call.write({ payload: { $case: 'spec', spec: specFor({}) } });
    await streamOpen;
    call.cancel();
    await expect(answer).rejects.toMatchObject({ code: GrpcStatus.CANCELLED });
    expect(await serverSaw).toBe(http2.constants.NGHTTP2_CANCEL);
    expect(call.destroyed).toBe(true);
  });

  it('fails the calls of a connection that dropped (the processor crashed) with UNAVAILABLE, and opens a new one for the next call', async () => {
    const connections: http2.Http2Session[] = [];
    let opened!: () => void;
    const firstOpen = new Promise<void>((resolve) => (opened = resolve));
    const server = await startBareGrpcServer((stream) => {
      if (!connections.includes(stream.session!)) connections.push(stream.session!);
      stream.on('data', () => undefined);
      // the first connection's call is held until the connection is dropped under it
      if (connections.length === 1) opened();
      else stream.on('end', () => answerWith(stream, `job-${connections.length}`));
    });
    servers.push(server);
    const channel = channelTo(server.address);
    const held = channel.open({ metadata: {}, deadlineMs: 10_000 });
    held.call.write({ payload: { $case: 'spec', spec: specFor({}) } });
    await firstOpen;
    server.dropConnections();
    await expect(held.answer).rejects.toMatchObject({ code: GrpcStatus.UNAVAILABLE });
    expect(((await upload(channel)).outcome as SubmitJobResponse).job?.jobId).toBe('job-2');
    expect(connections).toHaveLength(2);
  });

  it('takes an answer while other calls have megabytes queued on the connection (Node resets it past 10 MB by default)', async () => {
    const channel = await serve((stream, headers) => {
      // the uploads are never read: past the first window their chunks stay queued in the router
      if (headers['x-request-id'] === 'answer-me') answerWith(stream, 'job-answered');
    });
    const queued = Array.from({ length: 16 }, () => channel.open({ metadata: {}, deadlineMs: 10_000 }));
    for (const { call, answer } of queued) {
      answer.catch(() => undefined);
      call.write({ payload: { $case: 'spec', spec: specFor({}) } });
      call.write({ payload: { $case: 'chunk', chunk: Buffer.alloc(1024 * 1024, 5) } });
    }
    const { call, answer } = channel.open({ metadata: { 'x-request-id': 'answer-me' }, deadlineMs: 10_000 });
    call.write({ payload: { $case: 'spec', spec: specFor({}) } });
    call.end();
    expect((await answer).job?.jobId).toBe('job-answered');
  });

  it('fails with UNAVAILABLE when nothing listens at the address', async () => {
    const free = net.createServer();
    await new Promise<void>((resolve) => free.listen(0, '127.0.0.1', resolve));
    const { port } = free.address() as net.AddressInfo;
    await new Promise((resolve) => free.close(resolve));
    const { outcome } = await upload(channelTo(`127.0.0.1:${port}`));
    expect(outcome).toMatchObject({ code: GrpcStatus.UNAVAILABLE });
    expect((outcome as ServiceError).details).toMatch(/ECONNREFUSED/);
  });

  it('writes grpc-timeout in milliseconds up to 8 digits, in seconds beyond', () => {
    expect(grpcTimeout(1800_000)).toBe('1800000m');
    expect(grpcTimeout(99_999_999)).toBe('99999999m');
    expect(grpcTimeout(100_000_000)).toBe('100000S');
  });
});

import http2 from 'node:http2';
import { credentials, status } from '@grpc/grpc-js';
import { JobSpec, ProcessorServiceClient, SubmitJobResponse, frameSubmitJobRequest, jobSpecFromFields } from '@artorizer/contract';
import { makePng } from '@artorizer/testkit';
import { Target, startTarget } from '../contract/target';

/** SubmitJob as the processor serves it beside grpc-js (`submit-job-stream`), spoken to over bare HTTP/2. */

let target: Target;
let session: http2.ClientHttp2Session;

beforeAll(async () => {
  target = await startTarget();
  session = http2.connect(`http://${target.address}`);
});

afterAll(async () => {
  session.close();
  await target.stop();
});

// messages framed as the router frames them
const frame = frameSubmitJobRequest;
const spec = (changes: Partial<JobSpec> = {}) => frame({ payload: { $case: 'spec', spec: { ...jobSpecFromFields({ artist_name: 'A', artwork_title: 'T' }), ...changes } } });
const chunk = (bytes: Buffer) => frame({ payload: { $case: 'chunk', chunk: bytes } });

interface Outcome {
  code: number;
  message: string;
  /** Whether the request side was still open when the status came. */
  requestOpen: boolean;
}

/** Opens a SubmitJob stream; `outcome` settles with the status from the headers (trailers-only) or the trailers. */
function open(headers: Record<string, string> = {}): { stream: http2.ClientHttp2Stream; outcome: Promise<Outcome> } {
  const stream = session.request({ ':method': 'POST', ':path': '/artorizer.v1.ProcessorService/SubmitJob', 'content-type': 'application/grpc', te: 'trailers', ...headers });
  const outcome = new Promise<Outcome>((resolve, reject) => {
    const settle = (h: http2.IncomingHttpHeaders) => {
      if (h['grpc-status'] === undefined) return;
      resolve({ code: Number(h['grpc-status']), message: decodeURIComponent(String(h['grpc-message'] ?? '')), requestOpen: !stream.writableEnded });
    };
    stream.on('response', settle);
    stream.on('trailers', settle);
    stream.on('error', reject);
    stream.resume();
  });
  return { stream, outcome };
}

/** A spec the processor refuses at once (SVG is not accepted). */
const svgSpec = () => spec({ image: { contentType: 'image/svg+xml', sizeBytes: 0, sha256: '', filename: 'a.svg' } });

/**
 * Sends `specFrame` and a chunk of `chunkBytes` without ending the upload, expects `code` while
 * the request is still open, and that no file is left (it is removed before the status is sent).
 */
async function expectAnsweredMidUpload(headers: Record<string, string>, specFrame: Buffer, chunkBytes: number, code: number): Promise<void> {
  const { stream, outcome } = open(headers);
  stream.write(specFrame);
  stream.write(chunk(Buffer.alloc(chunkBytes, 1)));
  expect(await outcome).toMatchObject({ code, requestOpen: true });
  stream.close();
  expect(target.inside!.incomingFiles()).toEqual([]);
}

describe('SubmitJob over bare HTTP/2', () => {
  it('accepts an upload whose image comes in many chunk messages and answers the job, then OK, under the longest deadline a router sends', async () => {
    const png = await makePng(64, 64);
    // GRPC_STREAM_DEADLINE_MS at its largest, 2147483647 ms: longer than a timer can wait
    const { stream, outcome } = open({ 'grpc-timeout': '2147484S' });
    stream.write(spec());
    for (let at = 0; at < png.length; at += 100) stream.write(chunk(png.subarray(at, at + 100)));
    const answer = new Promise<SubmitJobResponse>((resolve) => stream.once('data', (data: Buffer) => resolve(SubmitJobResponse.decode(data.subarray(5)))));
    stream.end();
    expect((await outcome).code).toBe(status.OK);
    expect((await answer).job?.jobId).toMatch(/[0-9a-f-]{36}/);
  });

  it('answers DEADLINE_EXCEEDED when the upload outlives its grpc-timeout, and keeps nothing of it', async () => {
    await expectAnsweredMidUpload({ 'grpc-timeout': '300m' }, spec(), 64 * 1024, status.DEADLINE_EXCEEDED);
  });

  it('refuses an unreadable grpc-timeout with INTERNAL, as grpc-js does', async () => {
    const { stream, outcome } = open({ 'grpc-timeout': 'soon' });
    stream.end(spec());
    expect(await outcome).toMatchObject({ code: status.INTERNAL, message: 'Invalid grpc-timeout value "soon"' });
  });

  it('answers a refused spec (an SVG) at once, while the client is still sending', async () => {
    await expectAnsweredMidUpload({}, svgSpec(), 1024 * 1024, status.INVALID_ARGUMENT);
  });

  it('leaves compressed uploads to grpc-js, which decompresses them', async () => {
    // grpc-js sends gzip-compressed messages with `grpc-encoding: gzip`; bare HTTP/2 reading would refuse them
    const client = new ProcessorServiceClient(target.address, credentials.createInsecure(), { 'grpc.default_compression_algorithm': 2 });
    try {
      const png = await makePng(32, 32);
      const job = await new Promise<SubmitJobResponse>((resolve, reject) => {
        const call = client.submitJob((err, res) => (err ? reject(err) : resolve(res!)));
        call.write({ payload: { $case: 'spec', spec: jobSpecFromFields({ artist_name: 'A', artwork_title: 'gzip' }) } });
        call.write({ payload: { $case: 'chunk', chunk: png } });
        call.end();
      });
      expect(job.job?.jobId).toBeTruthy();
    } finally {
      client.close();
    }
  });
});

describe('SubmitJob over bare HTTP/2, a client that keeps sending after the answer', () => {
  it('reads the rest of a refused upload to its end, so the stream closes and the processor can stop', async () => {
    // its own processor: stopping it is part of what is checked
    const own = await startTarget();
    const client = http2.connect(`http://${own.address}`);
    try {
      const stream = client.request({ ':method': 'POST', ':path': '/artorizer.v1.ProcessorService/SubmitJob', 'content-type': 'application/grpc', te: 'trailers' });
      const refused = new Promise<string | undefined>((resolve) => stream.once('response', (h) => resolve(h['grpc-status'] as string | undefined)));
      stream.resume();
      stream.write(svgSpec());
      expect(await refused).toBe(String(status.INVALID_ARGUMENT));
      // more than the read-ahead and the stream window after the answer, then the end
      for (let i = 0; i < 6; i++) stream.write(chunk(Buffer.alloc(1024 * 1024, 3)));
      stream.end();
      await new Promise((resolve) => stream.once('close', resolve));
    } finally {
      client.close();
    }
    // a stream left paused kept its session open, and the stop waited for it
    const stopped = await Promise.race([own.stop().then(() => 'stopped'), new Promise((resolve) => setTimeout(resolve, 5000, 'still running after 5 s').unref())]);
    expect(stopped).toBe('stopped');
  });
});

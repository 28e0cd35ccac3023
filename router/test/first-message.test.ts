import http2 from 'node:http2';
import { AddressInfo } from 'node:net';
import { Job, JobState, SubmitJobResponse } from '@artorizer/contract';
import { specFor } from '@artorizer/testkit';
import { ProcessorPool } from '../src/grpc/processor-pool';
import { createMetrics } from '../src/metrics';

/*
 * A SubmitJob answer is its message: the router must not wait for the trailers, which a
 * server sends in a later write (grpc-js once the message's write has completed). The
 * processor here is a bare HTTP/2 server speaking gRPC, so that the test decides when the
 * trailers go out: only after the upload's answer has been taken.
 */
const CTX = { requestId: 'first-message' };

interface HeldTrailers {
  server: http2.Http2Server;
  address: string;
  /** Resolves once a SubmitJob call has had its answer written and its trailers held back. */
  answered: Promise<void>;
  trailersSent: () => boolean;
  /** Sends the held trailers (grpc-status 0). */
  release: () => void;
}

function grpcFrame(message: Uint8Array): Buffer {
  const frame = Buffer.alloc(5 + message.length);
  frame.writeUInt32BE(message.length, 1);
  frame.set(message, 5);
  return frame;
}

async function processorHoldingTrailers(jobId: string): Promise<HeldTrailers> {
  let sent = false;
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let answered!: () => void;
  const answeredOnce = new Promise<void>((resolve) => (answered = resolve));
  const server = http2.createServer();
  server.on('stream', (stream) => {
    stream.on('data', () => undefined);
    stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
    stream.on('wantTrailers', () => {
      void released.then(() => {
        sent = true;
        stream.sendTrailers({ 'grpc-status': '0' });
      });
    });
    const job = Job.fromPartial({ jobId, state: JobState.JOB_STATE_QUEUED });
    stream.end(grpcFrame(SubmitJobResponse.encode({ job }).finish()), () => answered());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { server, address: `127.0.0.1:${port}`, answered: answeredOnce, trailersSent: () => sent, release };
}

describe('SubmitJob answer', () => {
  it('settles an upload on the answer message, before the trailers arrive, and still records the status', async () => {
    const processor = await processorHoldingTrailers('job-before-trailers');
    const metrics = createMetrics();
    const pool = new ProcessorPool([processor.address], 10_000, metrics);
    try {
      const { call, done } = pool.openUpload(CTX);
      const status = new Promise<number>((resolve) => call.on('status', (s: { code: number }) => resolve(s.code)));
      call.write({ payload: { $case: 'spec', spec: specFor({}) } });
      call.end();
      await processor.answered;
      // waiting for the trailers would hang here (the test's timeout fails it)
      const job = await done;
      expect(job.jobId).toBe('job-before-trailers');
      expect(processor.trailersSent()).toBe(false);

      processor.release();
      expect(await status).toBe(0);
      const { values } = await metrics.grpcCalls.get();
      expect(values.filter((v) => v.labels.method === 'SubmitJob').map((v) => [v.labels.code, v.value])).toEqual([['OK', 1]]);
    } finally {
      processor.release();
      pool.close();
      await new Promise((resolve) => processor.server.close(resolve));
    }
  }, 10_000);
});

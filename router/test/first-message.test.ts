import { credentials, status as GrpcStatus } from '@grpc/grpc-js';
import { Job, JobState, SubmitJobResponse, createProcessorClient } from '@artorizer/contract';
import { specFor } from '@artorizer/testkit';
import { onFirstMessage } from '../src/grpc/first-message';
import { ProcessorPool } from '../src/grpc/processor-pool';
import { createMetrics } from '../src/metrics';
import { BareGrpcServer, grpcFrame, startBareGrpcServer } from './bare-grpc-server';

/*
 * A SubmitJob answer is its message: the router must not wait for the trailers, which a
 * server sends in a later write (grpc-js once the message's write has completed). The
 * processor here is a bare HTTP/2 server speaking gRPC, so that the test decides when the
 * trailers go out: only after the upload's answer has been taken. Uploads to an address go
 * through the router's own SubmitJob client (submit-job-channel.ts); uploads to a DNS name
 * through grpc-js with the `onFirstMessage` interceptor: both are checked.
 */
const CTX = { requestId: 'first-message' };

interface HeldTrailers extends BareGrpcServer {
  /** Resolves once a SubmitJob call has had its answer written and its trailers held back. */
  answered: Promise<void>;
  trailersSent: () => boolean;
  /** Sends the held trailers (grpc-status 0). */
  release: () => void;
}

async function processorHoldingTrailers(jobId: string): Promise<HeldTrailers> {
  let sent = false;
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let answered!: () => void;
  const answeredOnce = new Promise<void>((resolve) => (answered = resolve));
  const server = await startBareGrpcServer((stream) => {
    stream.on('data', () => undefined);
    stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
    stream.on('wantTrailers', () => {
      void released.then(() => {
        if (stream.destroyed) return;
        sent = true;
        stream.sendTrailers({ 'grpc-status': '0' });
      });
    });
    const job = Job.fromPartial({ jobId, state: JobState.JOB_STATE_QUEUED });
    stream.end(grpcFrame(SubmitJobResponse.encode({ job }).finish()), () => answered());
  });
  return { ...server, answered: answeredOnce, trailersSent: () => sent, release };
}

describe('SubmitJob answer', () => {
  it('settles an upload to an address on the answer message, before the trailers arrive', async () => {
    const processor = await processorHoldingTrailers('job-before-trailers');
    const pool = new ProcessorPool([processor.address], 10_000, createMetrics());
    try {
      const { call, done } = pool.openUpload(CTX);
      call.write({ payload: { $case: 'spec', spec: specFor({}) } });
      call.end();
      await processor.answered;
      // waiting for the trailers would hang here (the test's timeout fails it)
      const job = await done;
      expect(job.jobId).toBe('job-before-trailers');
      expect(processor.trailersSent()).toBe(false);
    } finally {
      processor.release();
      pool.close();
      await processor.close();
    }
  }, 10_000);

  it('hands a grpc-js call its answer message before the trailers (onFirstMessage, the DNS path), and the status after them', async () => {
    const processor = await processorHoldingTrailers('job-before-trailers');
    const client = createProcessorClient(processor.address, credentials.createInsecure());
    try {
      let early!: (res: SubmitJobResponse) => void;
      const answer = new Promise<SubmitJobResponse>((resolve) => (early = resolve));
      const call = client.submitJob({ interceptors: [onFirstMessage<SubmitJobResponse>(early)] }, () => undefined);
      const status = new Promise<number>((resolve) => call.on('status', (s: { code: number }) => resolve(s.code)));
      call.write({ payload: { $case: 'spec', spec: specFor({}) } });
      call.end();
      expect((await answer).job?.jobId).toBe('job-before-trailers');
      expect(processor.trailersSent()).toBe(false);
      processor.release();
      expect(await status).toBe(GrpcStatus.OK);
    } finally {
      processor.release();
      client.close();
      await processor.close();
    }
  }, 10_000);
});

import { once } from 'node:events';
import fs from 'node:fs';
import { handleServerStreamingCall } from '@grpc/grpc-js';
import { DownloadArtifactRequest, DownloadArtifactResponse } from '@artorizer/contract';
import { Processor } from '../../core/processor';
import { Logger } from '../../logger';
import { requestId, toStatus } from '../errors';

/** DownloadArtifact: the artifact's info, then its bytes in chunks, honouring backpressure. */
export function downloadArtifact(processor: Processor, log: Logger, chunkBytes: number): handleServerStreamingCall<DownloadArtifactRequest, DownloadArtifactResponse> {
  return (call) => {
    const send = async () => {
      const artifact = processor.artifact(call.request.jobId, call.request.variant);
      call.write({ payload: { $case: 'info', info: artifact.info } });
      const file = fs.createReadStream(artifact.path, { highWaterMark: chunkBytes });
      const gone = new AbortController();
      call.on('cancelled', () => {
        gone.abort();
        file.destroy();
      });
      for await (const chunk of file) {
        if (call.cancelled) return;
        if (!call.write({ payload: { $case: 'chunk', chunk: chunk as Buffer } })) await once(call, 'drain', { signal: gone.signal });
      }
      call.end();
    };
    send().catch((err: unknown) => {
      if (!call.cancelled) call.emit('error', toStatus(err, log, { rpc: 'DownloadArtifact', requestId: requestId(call.metadata) }));
    });
  };
}

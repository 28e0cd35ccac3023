import { handleServerStreamingCall } from '@grpc/grpc-js';
import { WatchJobRequest, WatchJobResponse } from '@artorizer/contract';
import { Processor } from '../../core/processor';
import { Logger } from '../../logger';
import { requestId, toStatus } from '../errors';

/** WatchJob: the current event, then one per change, ending after the terminal event. */
export function watchJob(processor: Processor, log: Logger): handleServerStreamingCall<WatchJobRequest, WatchJobResponse> {
  return (call) => {
    let stop: () => void = () => undefined;
    let ended = false;
    const onEvent = (event: WatchJobResponse) => {
      if (ended) return;
      call.write(event);
      if (event.terminal) {
        ended = true;
        stop();
        call.end();
      }
    };
    try {
      stop = processor.watch(call.request.jobId, onEvent);
      if (ended) stop();
    } catch (err) {
      call.emit('error', toStatus(err, log, { rpc: 'WatchJob', requestId: requestId(call.metadata) }));
      return;
    }
    call.on('cancelled', () => {
      ended = true;
      stop();
    });
  };
}

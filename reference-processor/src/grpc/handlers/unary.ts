import { handleUnaryCall } from '@grpc/grpc-js';
import { Logger } from '../../logger';
import { requestId, toStatus } from '../errors';

/** Wraps a unary handler body so thrown ProcessorErrors become gRPC statuses. */
export function unary<Req, Res>(name: string, log: Logger, body: (req: Req, requestId: string | undefined) => Res | Promise<Res>): handleUnaryCall<Req, Res> {
  return (call, callback) => {
    Promise.resolve()
      .then(() => body(call.request, requestId(call.metadata)))
      .then(
        (res) => callback(null, res),
        (err: unknown) => callback(toStatus(err, log, { rpc: name, requestId: requestId(call.metadata) })),
      );
  };
}

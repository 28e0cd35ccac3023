import { InterceptingCall, Interceptor } from '@grpc/grpc-js';

/**
 * A call interceptor that hands the call's first response message to `onMessage` as soon as it
 * arrives. A client-streaming call's callback waits for the trailers, which a server sends in a
 * later write than the message (grpc-js writes them once the message's write has completed, after
 * whatever else its event loop had queued); for SubmitJob the message alone is the answer, since a
 * server answers with a message only when it has accepted the job. (grpc-js also passes `null`
 * here when a unary-response call ends without a message, i.e. with an error: that is no answer.)
 */
export function onFirstMessage<Res>(onMessage: (message: Res) => void): Interceptor {
  return (options, nextCall) =>
    new InterceptingCall(nextCall(options), {
      start(metadata, listener, next) {
        let seen = false;
        next(metadata, {
          onReceiveMessage(message: Res | null, pass: (message: Res | null) => void) {
            if (!seen && message !== null) {
              seen = true;
              onMessage(message);
            }
            pass(message);
          },
        });
      },
    });
}

import { ChannelCredentials, credentials } from '@grpc/grpc-js';
import { GrpcTls } from '@artorizer/service-kit';

/**
 * The credentials of the router's channels to processors (`GRPC_TLS_CA`, `GRPC_TLS_CERT`,
 * `GRPC_TLS_KEY`): TLS checking the processor's certificate against the CA (the system's roots
 * without one), with this router's certificate for processors that require one; plaintext
 * when none is set.
 */
export function channelCredentials(tls: GrpcTls | undefined): ChannelCredentials {
  if (!tls) return credentials.createInsecure();
  return credentials.createSsl(tls.ca ?? null, tls.identity?.key ?? null, tls.identity?.cert ?? null);
}

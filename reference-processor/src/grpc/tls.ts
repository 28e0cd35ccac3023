import { ServerCredentials } from '@grpc/grpc-js';
import { GrpcTls, isLoopbackHost } from '@artorizer/service-kit';
import { ProcessorConfig } from '../config';

/**
 * The gRPC server's credentials: mutual TLS with a CA (a client must show a certificate from
 * it), server TLS with only a certificate and key, plaintext without settings.
 */
export function serverCredentials(tls: GrpcTls | undefined): ServerCredentials {
  if (!tls?.identity) return ServerCredentials.createInsecure();
  const pair = [{ cert_chain: tls.identity.cert, private_key: tls.identity.key }];
  return tls.ca ? ServerCredentials.createSsl(tls.ca, pair, true) : ServerCredentials.createSsl(null, pair, false);
}

/** How the gRPC port is protected, for the start-up log. */
export function grpcTransport(tls: GrpcTls | undefined): 'mutual-tls' | 'tls' | 'plaintext' {
  if (!tls?.identity) return 'plaintext';
  return tls.ca ? 'mutual-tls' : 'tls';
}

/** Start-up warnings for ports that anyone who reaches them can use: those not bound to loopback. */
export function exposureWarnings(config: Pick<ProcessorConfig, 'host' | 'httpHost' | 'httpPort' | 'grpcTls' | 'httpTls'>): string[] {
  const warnings: string[] = [];
  const transport = grpcTransport(config.grpcTls);
  if (!isLoopbackHost(config.host)) {
    if (transport === 'plaintext') {
      warnings.push(
        `the gRPC port is plaintext and unauthenticated on ${config.host}: anyone who reaches it can submit, read and cancel jobs (set GRPC_TLS_CA, GRPC_TLS_CERT and GRPC_TLS_KEY, or bind HOST to 127.0.0.1)`,
      );
    } else if (transport === 'tls') {
      warnings.push(`the gRPC port is encrypted but unauthenticated on ${config.host}: without GRPC_TLS_CA any client can call it`);
    }
  }
  if (config.httpPort >= 0 && !isLoopbackHost(config.httpHost) && !(config.httpTls && config.grpcTls?.ca)) {
    warnings.push(
      `the legacy HTTP API is unauthenticated on ${config.httpHost}${config.httpTls ? '' : ' and plaintext'}: anyone who reaches it can submit, read and cancel jobs (set HTTP_HOST=127.0.0.1, HTTP_PORT=-1, or HTTP_TLS=on with GRPC_TLS_CA)`,
    );
  }
  return warnings;
}

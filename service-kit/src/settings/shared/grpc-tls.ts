import { section } from '../section';
import { text } from '../setting';

/** Which end of the connection: a server needs its own certificate, a client may go without. */
export type TlsRole = 'server' | 'client';

const MEANINGS: Record<TlsRole, { ca: string; cert: string; key: string }> = {
  client: {
    ca: "PEM file of the CA(s) the processors' certificates are checked against (with only `GRPC_TLS_CERT`/`GRPC_TLS_KEY` set: the system's roots); setting any of the three makes the router talk TLS to processors",
    cert: "this router's client certificate (PEM), for processors that require one (mutual TLS); with `GRPC_TLS_KEY`: both or neither",
    key: 'the private key (PEM) of `GRPC_TLS_CERT`; both or neither',
  },
  server: {
    ca: 'with cert and key: mutual TLS, only clients with a certificate from this CA are accepted (plaintext clients and other CAs are refused)',
    cert: "the processor's certificate (PEM): gRPC over TLS; with `GRPC_TLS_KEY`: both or neither",
    key: 'the private key (PEM) of `GRPC_TLS_CERT`; both or neither',
  },
};

/** The PEM files of gRPC TLS (`loadGrpcTls` reads and checks them); what each means depends on the end. */
export function grpcTlsSettings(role: TlsRole) {
  const meaning = MEANINGS[role];
  return section(role === 'client' ? 'TLS to the processors' : 'TLS', {
    ca: text({ name: 'GRPC_TLS_CA', default: undefined, meaning: meaning.ca }),
    cert: text({ name: 'GRPC_TLS_CERT', default: undefined, meaning: meaning.cert }),
    key: text({ name: 'GRPC_TLS_KEY', default: undefined, meaning: meaning.key }),
  });
}

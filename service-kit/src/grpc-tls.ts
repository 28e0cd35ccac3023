import fs from 'node:fs';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { Env } from './env-and-signals';
import { readSection } from './settings/section';
import { TlsRole, grpcTlsSettings } from './settings/shared/grpc-tls';

export type { TlsRole };

/**
 * TLS between router and processor, from `GRPC_TLS_CA`, `GRPC_TLS_CERT` and `GRPC_TLS_KEY`
 * (PEM file paths), read and checked at start-up so that a bad setting fails the start, not
 * the first call.
 */
export interface GrpcTls {
  /**
   * Certificate authorities to trust (`GRPC_TLS_CA`). A processor accepts only clients with a
   * certificate from them (mutual TLS); a router checks the processor's certificate against
   * them (the system's roots when unset).
   */
  ca?: Buffer;
  /** This side's certificate chain and private key (`GRPC_TLS_CERT`, `GRPC_TLS_KEY`): both or neither. */
  identity?: { cert: Buffer; key: Buffer };
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

function readPem(name: string, file: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (err) {
    // not `instanceof Error`: errors from Node's own modules may come from another realm (jest)
    const reason = typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : String(err);
    throw new Error(`${name}: cannot read "${file}" (${reason})`);
  }
}

/** Every certificate of a PEM bundle, parsed; fails naming the setting when there is none or one is broken. */
function certificates(name: string, file: string, pem: Buffer): X509Certificate[] {
  const blocks = pem.toString('utf8').match(PEM_CERTIFICATE) ?? [];
  if (blocks.length === 0) throw new Error(`${name}: "${file}" holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
  return blocks.map((block) => {
    try {
      return new X509Certificate(block);
    } catch (err) {
      throw new Error(`${name}: "${file}" holds a certificate that cannot be parsed (${(err as Error).message})`);
    }
  });
}

function checkValidity(name: string, file: string, cert: X509Certificate, now: Date): void {
  if (new Date(cert.validTo) < now) throw new Error(`${name}: the certificate in "${file}" expired on ${cert.validTo}`);
  if (new Date(cert.validFrom) > now) throw new Error(`${name}: the certificate in "${file}" is not valid before ${cert.validFrom}`);
}

/**
 * Reads the three settings; undefined when none is set (plaintext). Throws a message naming the
 * setting when one of cert and key is set without the other, a file cannot be read or parsed,
 * the key does not belong to the certificate, this side's certificate is expired, or a server has a CA
 * but no certificate of its own.
 */
export function loadGrpcTls(env: Env, role: TlsRole, now = new Date()): GrpcTls | undefined {
  const files = readSection(env, grpcTlsSettings(role));
  if (!files.ca && !files.cert && !files.key) return undefined;
  if (Boolean(files.cert) !== Boolean(files.key)) {
    const [set, unset] = files.cert ? ['GRPC_TLS_CERT', 'GRPC_TLS_KEY'] : ['GRPC_TLS_KEY', 'GRPC_TLS_CERT'];
    throw new Error(`${set} is set but ${unset} is not: a certificate and its private key go together`);
  }
  if (role === 'server' && !files.cert) {
    throw new Error('GRPC_TLS_CA is set without GRPC_TLS_CERT and GRPC_TLS_KEY: a TLS server needs a certificate and key of its own');
  }
  const tls: GrpcTls = {};
  if (files.ca) {
    tls.ca = readPem('GRPC_TLS_CA', files.ca);
    certificates('GRPC_TLS_CA', files.ca, tls.ca);
  }
  if (files.cert && files.key) {
    const cert = readPem('GRPC_TLS_CERT', files.cert);
    const key = readPem('GRPC_TLS_KEY', files.key);
    const [leaf] = certificates('GRPC_TLS_CERT', files.cert, cert);
    checkValidity('GRPC_TLS_CERT', files.cert, leaf, now);
    let privateKey;
    try {
      privateKey = createPrivateKey(key);
    } catch (err) {
      throw new Error(`GRPC_TLS_KEY: "${files.key}" holds no usable PEM private key (${(err as Error).message})`);
    }
    if (!leaf.checkPrivateKey(privateKey)) {
      throw new Error(`GRPC_TLS_KEY: the key in "${files.key}" does not belong to the certificate in "${files.cert}"`);
    }
    tls.identity = { cert, key };
  }
  return tls;
}

/** True for addresses only this machine can reach. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  return bare === 'localhost' || bare === '::1' || /^127(\.\d{1,3}){3}$/.test(bare) || /^::ffff:127(\.\d{1,3}){3}$/.test(bare);
}

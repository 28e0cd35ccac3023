import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** A certificate and its key, as PEM file paths. */
export interface Identity {
  cert: string;
  key: string;
}

/**
 * Test certificates made with the `openssl` CLI, the way docs/operations.md ("TLS between router and processor") tells an operator to:
 * a CA with a processor (server) certificate for 127.0.0.1 and localhost and a client
 * certificate, and a second, unrelated CA with a client certificate of its own.
 */
export interface Pki {
  dir: string;
  ca: string;
  server: Identity;
  client: Identity;
  otherCa: string;
  otherClient: Identity;
  remove(): void;
}

const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Fails with a clear message when the CLI is missing, instead of failing every case obscurely. */
function checkOpenssl(): void {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
  } catch (err) {
    throw new Error(`the TLS tests need the openssl CLI on PATH: ${(err as Error).message}`);
  }
}

function makeCa(dir: string, name: string): string {
  openssl(dir, [
    'req',
    '-x509',
    ...EC_KEY,
    '-days',
    '2',
    '-subj',
    `/CN=${name}`,
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.pem`,
  ]);
  return path.join(dir, `${name}.pem`);
}

function issue(dir: string, ca: string, name: string, extensions: string): Identity {
  openssl(dir, ['req', ...EC_KEY, '-subj', `/CN=${name}`, '-keyout', `${name}.key`, '-out', `${name}.csr`]);
  fs.writeFileSync(path.join(dir, `${name}.ext`), extensions);
  openssl(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.pem`, '-CAkey', `${ca}.key`, '-CAcreateserial', '-days', '2', '-extfile', `${name}.ext`, '-out', `${name}.pem`]);
  return { cert: path.join(dir, `${name}.pem`), key: path.join(dir, `${name}.key`) };
}

export function makePki(): Pki {
  checkOpenssl();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'artorizer-pki-'));
  const ca = makeCa(dir, 'ca');
  const otherCa = makeCa(dir, 'other-ca');
  return {
    dir,
    ca,
    server: issue(dir, 'ca', 'processor', 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n'),
    client: issue(dir, 'ca', 'router', 'extendedKeyUsage=clientAuth\n'),
    otherCa,
    otherClient: issue(dir, 'other-ca', 'intruder', 'extendedKeyUsage=clientAuth\n'),
    remove: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

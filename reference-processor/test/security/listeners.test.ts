import { spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import { status } from '@grpc/grpc-js';
import { Pki, makePki, probeGetJob } from '@artorizer/testkit';
import { loadConfig } from '../../src/config';
import { exposureWarnings } from '../../src/grpc/tls';
import { Target, startTarget } from '../contract/target';

/*
 * Where the processor listens and who may talk to it: `HOST` for gRPC, `HTTP_HOST` (default
 * `HOST`) for the legacy HTTP API, which `HTTP_TLS=on` serves over HTTPS with the gRPC
 * certificate (client certificates from GRPC_TLS_CA required when that is set). Each check
 * connects for real; 127.0.0.2 is a second loopback address.
 */
const REPO = path.resolve(__dirname, '../../..');

let pki: Pki;

beforeAll(() => {
  pki = makePki();
});

afterAll(() => pki.remove());

/** The outcome of one HTTP(S) GET /health: the status code, or the error code of a refused connection. */
function getHealth(url: string, tls: https.RequestOptions = {}): Promise<number | string> {
  return new Promise((resolve) => {
    const client = url.startsWith('https:') ? https : http;
    const req = client.get(`${url}/health`, { agent: false, timeout: 5000, ...tls }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}

describe('HTTP_HOST', () => {
  let target: Target | undefined;
  afterEach(async () => {
    await target?.stop();
    target = undefined;
  });

  it('defaults to HOST', () => {
    expect(loadConfig({}).httpHost).toBe('0.0.0.0');
    expect(loadConfig({ HOST: '127.0.0.1' }).httpHost).toBe('127.0.0.1');
    expect(loadConfig({ HOST: '0.0.0.0', HTTP_HOST: '127.0.0.1' })).toMatchObject({ host: '0.0.0.0', httpHost: '127.0.0.1' });
  });

  it('binds the legacy HTTP API apart from gRPC', async () => {
    target = await startTarget({ HOST: '127.0.0.2', HTTP_HOST: '127.0.0.1' });
    const { grpcPort, httpPort } = target.local!;
    expect(await getHealth(`http://127.0.0.1:${httpPort}`)).toBe(200);
    expect(await getHealth(`http://127.0.0.2:${httpPort}`)).toBe('ECONNREFUSED');
    expect((await probeGetJob(`127.0.0.2:${grpcPort}`)).code).toBe(status.NOT_FOUND);
    expect((await probeGetJob(`127.0.0.1:${grpcPort}`)).code).toBe(status.UNAVAILABLE);
  });
});

describe('HTTP_TLS', () => {
  let target: Target | undefined;
  afterEach(async () => {
    await target?.stop();
    target = undefined;
  });

  const tlsEnv = (withCa: boolean): Record<string, string> => ({
    ...(withCa ? { GRPC_TLS_CA: pki.ca } : {}),
    GRPC_TLS_CERT: pki.server.cert,
    GRPC_TLS_KEY: pki.server.key,
    HTTP_TLS: 'on',
  });

  it('with GRPC_TLS_CA: HTTPS for clients with a certificate from that CA only', async () => {
    target = await startTarget(tlsEnv(true));
    const url = `https://127.0.0.1:${target.local!.httpPort}`;
    const ca = fs.readFileSync(pki.ca);
    expect(await getHealth(url, { ca, cert: fs.readFileSync(pki.client.cert), key: fs.readFileSync(pki.client.key) })).toBe(200);
    // refused during the handshake: an error code, not an HTTP status
    expect(await getHealth(url, { ca })).toBe('ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED');
    expect(await getHealth(url, { ca, cert: fs.readFileSync(pki.otherClient.cert), key: fs.readFileSync(pki.otherClient.key) })).toEqual(expect.any(String));
    expect(await getHealth(`http://127.0.0.1:${target.local!.httpPort}`)).toEqual(expect.any(String));
  });

  it('without GRPC_TLS_CA: HTTPS with the same certificate, no client certificate asked', async () => {
    target = await startTarget(tlsEnv(false));
    expect(await getHealth(`https://127.0.0.1:${target.local!.httpPort}`, { ca: fs.readFileSync(pki.ca) })).toBe(200);
  });

  it('needs the gRPC certificate and takes only on or off', () => {
    expect(() => loadConfig({ HTTP_TLS: 'on' })).toThrow('HTTP_TLS=on needs GRPC_TLS_CERT and GRPC_TLS_KEY');
    expect(() => loadConfig({ HTTP_TLS: 'yes' })).toThrow('HTTP_TLS must be "on" or "off", got "yes"');
    expect(loadConfig({}).httpTls).toBe(false);
  });
});

describe('start-up warnings for exposed ports', () => {
  const base = { host: '0.0.0.0', httpHost: '0.0.0.0', httpPort: 8000, grpcTls: undefined, httpTls: false };

  it('warns that a plaintext gRPC port off loopback is unauthenticated, and the HTTP API too', () => {
    const warnings = exposureWarnings(base);
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatch(/^the gRPC port is plaintext and unauthenticated on 0\.0\.0\.0/);
    expect(warnings[1]).toMatch(/^the legacy HTTP API is unauthenticated on 0\.0\.0\.0 and plaintext/);
  });

  it('says nothing for loopback, and nothing about gRPC under mutual TLS', () => {
    expect(loadConfig({ GRPC_TLS_CA: '', GRPC_TLS_CERT: '', GRPC_TLS_KEY: '' }).grpcTls).toBeUndefined();
    expect(exposureWarnings({ ...base, host: '127.0.0.1', httpHost: '::1' })).toEqual([]);
    const withCa = loadConfig({ GRPC_TLS_CA: pki.ca, GRPC_TLS_CERT: pki.server.cert, GRPC_TLS_KEY: pki.server.key }).grpcTls;
    expect(exposureWarnings({ ...base, grpcTls: withCa, httpHost: '127.0.0.1' })).toEqual([]);
    expect(exposureWarnings({ ...base, grpcTls: withCa, httpTls: true })).toEqual([]);
    const serverOnly = loadConfig({ GRPC_TLS_CERT: pki.server.cert, GRPC_TLS_KEY: pki.server.key }).grpcTls;
    expect(exposureWarnings({ ...base, grpcTls: serverOnly, httpPort: -1 })).toEqual(['the gRPC port is encrypted but unauthenticated on 0.0.0.0: without GRPC_TLS_CA any client can call it']);
  });
});

/* The router's side of these checks is in router/test/security/tls.test.ts. */
describe('misconfiguration fails at start with a message naming the setting', () => {
  it('processor: a certificate without its key, and a CA without a certificate of its own', () => {
    expect(() => loadConfig({ GRPC_TLS_CERT: pki.server.cert })).toThrow(/GRPC_TLS_CERT is set but GRPC_TLS_KEY is not/);
    expect(() => loadConfig({ GRPC_TLS_CA: pki.ca })).toThrow(/GRPC_TLS_CA is set without GRPC_TLS_CERT and GRPC_TLS_KEY/);
  });

  it('the processor process exits 1 and logs why', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'reference-processor/src/main.ts'], {
      cwd: REPO,
      env: { ...process.env, LOG_LEVEL: 'info', HOST: '127.0.0.1', GRPC_PORT: '0', HTTP_PORT: '-1', GRPC_TLS_CERT: pki.server.cert, GRPC_TLS_KEY: '', GRPC_TLS_CA: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => (output += text));
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(1);
    expect(output).toContain('processor failed to start');
    expect(output).toContain('GRPC_TLS_CERT is set but GRPC_TLS_KEY is not');
  });
});

import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { credentials, status } from '@grpc/grpc-js';
import { JobState } from '@artorizer/contract';
import { GrpcTls } from '@artorizer/service-kit';
import { ContractClient, Pki, collect, grpcError, makePki, makePng, probeGetJob, specFor } from '@artorizer/testkit';
import { loadConfig } from '../../src/config';
import { ProcessorPool } from '../../src/grpc/processor-pool';
import { channelCredentials } from '../../src/grpc/tls';
import { createMetrics } from '../../src/metrics';
import { LocalProcessor, form, startLocalProcessor, startLocalRouter, waitForJob } from '../harness';

/*
 * TLS between router and processor (GRPC_TLS_CA, GRPC_TLS_CERT, GRPC_TLS_KEY), over real
 * sockets with certificates made by the openssl CLI: a processor with all three accepts only
 * clients with a certificate from its CA; the router's pool (jobs and health checks) gets
 * through with one; plaintext, no certificate and another CA's certificate are refused before
 * any RPC runs (UNAVAILABLE, where a call that got through would answer NOT_FOUND).
 */
const run = promisify(execFile);
const BUF = path.resolve(__dirname, '../../../node_modules/.bin/buf');
const CTX = { requestId: 'tls-test' };

let pki: Pki;
let processor: LocalProcessor;
let png: Buffer;

function tlsEnv(identity: { cert: string; key: string }, ca = pki.ca): Record<string, string> {
  return { GRPC_TLS_CA: ca, GRPC_TLS_CERT: identity.cert, GRPC_TLS_KEY: identity.key };
}

/** A router's pool with the given TLS settings, as `router/src/dispatch-core.ts` builds it. */
function poolWith(tls: GrpcTls | undefined, address = processor.address): ProcessorPool {
  return new ProcessorPool([address], 5000, createMetrics(), 60_000, tls);
}

beforeAll(async () => {
  pki = makePki();
  processor = await startLocalProcessor(tlsEnv(pki.server));
  png = await makePng(64, 48);
});

afterAll(async () => {
  await processor?.stop(1000);
  pki?.remove();
});

describe('a mutual-TLS processor', () => {
  it('completes a job for a router pool with a client certificate from its CA', async () => {
    const pool = poolWith(loadConfig(tlsEnv(pki.client)).grpcTls);
    try {
      const { call, done } = pool.openUpload(CTX);
      call.write({ payload: { $case: 'spec', spec: specFor() } });
      call.write({ payload: { $case: 'chunk', chunk: png } });
      call.end();
      const job = await done;
      const events = await collect(await pool.watch(job.jobId, CTX));
      expect(events[events.length - 1].job?.state).toBe(JobState.JOB_STATE_COMPLETED);
      const download = await collect(await pool.download(job.jobId, 'original', CTX));
      const bytes = download.map((m) => (m.payload?.$case === 'chunk' ? m.payload.chunk : Buffer.alloc(0)));
      expect(Buffer.concat(bytes).equals(png)).toBe(true);
    } finally {
      pool.close();
    }
  });

  it('serves a router started with GRPC_TLS_*: an upload through it completes; a router without them is refused', async () => {
    const secure = await startLocalRouter({ PROCESSOR_ADDR: processor.address, ...tlsEnv(pki.client) });
    const plain = await startLocalRouter({ PROCESSOR_ADDR: processor.address });
    try {
      const res = await fetch(`${secure.url}/protect`, { method: 'POST', body: form({ artist_name: 'Jane', artwork_title: 'Sealed' }, png) });
      expect(res.status).toBe(202);
      const { job_id } = (await res.json()) as { job_id: string };
      expect(await waitForJob(secure.url, job_id)).toMatchObject({ status: 'completed' });
      const refused = await fetch(`${plain.url}/protect`, { method: 'POST', body: form({ artist_name: 'Jane', artwork_title: 'Open' }, png) });
      expect(refused.status).toBe(503);
    } finally {
      await secure.stop(100);
      await plain.stop(100);
    }
  });

  it('answers the router pool health check over mutual TLS, and fails it for a plaintext pool', async () => {
    const secure = poolWith(loadConfig(tlsEnv(pki.client)).grpcTls);
    const plain = poolWith(undefined);
    try {
      expect(await secure.health()).toEqual([{ address: processor.address, serving: true, error: undefined }]);
      expect(await plain.health()).toEqual([{ address: processor.address, serving: false, error: 'UNAVAILABLE' }]);
    } finally {
      secure.close();
      plain.close();
    }
  });

  it('refuses a plaintext client', async () => {
    const client = new ContractClient(processor.address);
    try {
      const err = await grpcError(client.submitByReference(specFor(), { location: { $case: 'http', http: { url: 'http://127.0.0.1:1/a.png' } } }));
      expect(err.code).toBe(status.UNAVAILABLE);
    } finally {
      client.close();
    }
    expect((await probeGetJob(processor.address, credentials.createInsecure())).code).toBe(status.UNAVAILABLE);
  });

  it('refuses a client whose certificate comes from another CA', async () => {
    const creds = channelCredentials(loadConfig({ GRPC_TLS_CA: pki.ca, GRPC_TLS_CERT: pki.otherClient.cert, GRPC_TLS_KEY: pki.otherClient.key }).grpcTls);
    expect((await probeGetJob(processor.address, creds)).code).toBe(status.UNAVAILABLE);
  });

  it('refuses a TLS client without a client certificate', async () => {
    const creds = channelCredentials(loadConfig({ GRPC_TLS_CA: pki.ca }).grpcTls);
    expect((await probeGetJob(processor.address, creds)).code).toBe(status.UNAVAILABLE);
  });

  it('is refused by a router that does not trust its CA', async () => {
    const creds = channelCredentials(loadConfig(tlsEnv(pki.client, pki.otherCa)).grpcTls);
    expect((await probeGetJob(processor.address, creds)).code).toBe(status.UNAVAILABLE);
  });

  it('keeps a control: a client with the right certificate reaches the service (NOT_FOUND)', async () => {
    const creds = channelCredentials(loadConfig(tlsEnv(pki.client)).grpcTls);
    expect((await probeGetJob(processor.address, creds)).code).toBe(status.NOT_FOUND);
  });

  it('serves reflection and health to an operator with a certificate (buf curl --cacert --cert --key)', async () => {
    const url = `https://127.0.0.1:${processor.grpcPort}`;
    const tls = ['--cacert', pki.ca, '--cert', pki.client.cert, '--key', pki.client.key];
    const methods = await run(BUF, ['curl', '--protocol', 'grpc', ...tls, '--list-methods', url]);
    expect(methods.stdout).toContain('artorizer.v1.ProcessorService/SubmitJobByReference');
    const health = await run(BUF, ['curl', '--protocol', 'grpc', ...tls, '-d', '{"service":"artorizer.v1.ProcessorService"}', `${url}/grpc.health.v1.Health/Check`]);
    expect(JSON.parse(health.stdout)).toEqual({ status: 'SERVING' });
    const refused = await run(BUF, ['curl', '--protocol', 'grpc', '--cacert', pki.ca, '--list-methods', url]).then(
      () => 'succeeded',
      (err: { stderr?: string }) => err.stderr ?? 'failed',
    );
    expect(refused).not.toBe('succeeded');
  });
});

describe('a processor with a certificate and no CA (server TLS only)', () => {
  let serverOnly: LocalProcessor;
  beforeAll(async () => {
    serverOnly = await startLocalProcessor({ GRPC_TLS_CERT: pki.server.cert, GRPC_TLS_KEY: pki.server.key });
  });
  afterAll(() => serverOnly.stop(1000));

  it('serves TLS clients without a client certificate and refuses plaintext', async () => {
    const creds = channelCredentials(loadConfig({ GRPC_TLS_CA: pki.ca }).grpcTls);
    expect((await probeGetJob(serverOnly.address, creds)).code).toBe(status.NOT_FOUND);
    expect((await probeGetJob(serverOnly.address, credentials.createInsecure())).code).toBe(status.UNAVAILABLE);
  });
});

/* The processor's side of these checks is in reference-processor/test/security/listeners.test.ts. */
describe('misconfiguration fails at start with a message naming the setting', () => {
  it.each([
    ['a certificate without its key', () => ({ GRPC_TLS_CERT: pki.client.cert }), /GRPC_TLS_CERT is set but GRPC_TLS_KEY is not/],
    ['a key without its certificate', () => ({ GRPC_TLS_KEY: pki.client.key }), /GRPC_TLS_KEY is set but GRPC_TLS_CERT is not/],
    ['an unreadable file', () => ({ GRPC_TLS_CA: path.join(pki.dir, 'missing.pem') }), /GRPC_TLS_CA: cannot read ".*missing\.pem" \(ENOENT\)$/],
    ['a CA file without a certificate', () => ({ GRPC_TLS_CA: pki.client.key }), /GRPC_TLS_CA: ".*router\.key" holds no PEM certificate/],
    ['a key of another certificate', () => ({ GRPC_TLS_CERT: pki.client.cert, GRPC_TLS_KEY: pki.server.key }), /GRPC_TLS_KEY: the key in ".*processor\.key" does not belong to the certificate/],
  ])('router: %s', (_what, env, message) => {
    expect(() => loadConfig(env())).toThrow(message);
  });
});

import './alternative-resolver';
import { makePng, specFor } from '@artorizer/testkit';
import { DNS_LOOKUP_MIN_INTERVAL_MS, ProcessorPool } from '../src/grpc/processor-pool';
import { parseProcessorTarget } from '../src/grpc/processor-targets';
import { Metrics, createMetrics } from '../src/metrics';
import { DnsServer, startDnsServer } from './dns-server';
import { LocalProcessor, LocalRouter, form, jobCount, startLocalProcessor, startLocalRouter, waitForJob } from './harness';
import { freePort } from './ports';
import { REDIS_URL, describeWithRedis, dropPrefix, uniquePrefix } from './queue/redis';

/*
 * Processors found by a DNS name (PROCESSOR_ADDR=dns://server/name:port): two reference
 * processors on one port of two loopback addresses, a real DNS server on loopback that names
 * both, grpc-js's round_robin spreading new jobs, and each job's processor read from its owner
 * record instead of asking every processor.
 */
const CTX = { requestId: 'by-name' };
const NAME = 'processors.artorizer.test';
const IPS = ['127.0.0.2', '127.0.0.3'];
const meta = { artist_name: 'Jane Doe', artwork_title: 'By name' };

let dns: DnsServer;
let port: number;
let processors: LocalProcessor[];
let png: Buffer;
const target = () => `dns://${dns.authority}/${NAME}:${port}`;

async function grpcCalls(metrics: Metrics, method: string): Promise<number> {
  const { values } = await metrics.grpcCalls.get();
  return values.filter((v) => v.labels.method === method).reduce((sum, v) => sum + v.value, 0);
}

async function submit(pool: ProcessorPool): Promise<string> {
  const { call, done } = pool.openUpload(CTX);
  call.write({ payload: { $case: 'spec', spec: specFor() } });
  call.write({ payload: { $case: 'chunk', chunk: png } });
  call.end();
  return (await done).jobId;
}

beforeAll(async () => {
  png = await makePng(64, 48, 5);
  dns = await startDnsServer();
  dns.answer(NAME, IPS);
  port = await freePort();
  processors = await Promise.all(IPS.map((ip) => startLocalProcessor({ HOST: ip, GRPC_PORT: String(port) })));
});

afterAll(async () => {
  await Promise.all((processors ?? []).map((p) => p.stop(100)));
  await dns?.close();
});

describe('PROCESSOR_ADDR entries', () => {
  it('take host:port, dns:///name:port and dns://server/name:port, and refuse anything else by name', () => {
    expect(parseProcessorTarget('10.0.0.5:50051')).toEqual({ kind: 'address', address: '10.0.0.5:50051' });
    expect(parseProcessorTarget('dns:///processors:50051')).toMatchObject({ kind: 'dns', host: 'processors', port: 50051, dnsServer: undefined });
    expect(parseProcessorTarget('dns://10.0.0.2:53/processors:7000')).toMatchObject({ kind: 'dns', host: 'processors', port: 7000, dnsServer: '10.0.0.2:53' });
    expect(() => parseProcessorTarget('dns:///processors')).toThrow(/PROCESSOR_ADDR entry "dns:\/\/\/processors" must be host:port or dns:\/\/\/name:port/);
    expect(() => parseProcessorTarget('processors:0')).toThrow(/PROCESSOR_ADDR entry/);
  });
});

describe('a pool on a DNS name', () => {
  it('spreads new jobs over every address the name resolves to and reaches each job on its own processor', async () => {
    const metrics = createMetrics();
    const pool = new ProcessorPool([target()], 10_000, metrics);
    try {
      expect((await pool.health()).map((h) => [h.address, h.serving])).toEqual(IPS.map((ip) => [`${ip}:${port}`, true]));
      const before = processors.map(jobCount);
      const ids: string[] = [];
      for (let i = 0; i < 6; i++) ids.push(await submit(pool));
      // round_robin: the first calls may all go to the address that connected first, then they alternate
      const landed = processors.map((p, i) => jobCount(p) - before[i]);
      expect(landed.reduce((a, b) => a + b)).toBe(6);
      expect(Math.min(...landed)).toBeGreaterThanOrEqual(2);
      for (const id of ids) expect((await pool.getJob(id, CTX)).jobId).toBe(id);
      // every GetJob went to the job's owner, learnt from the submit's peer: none asked the other processor
      expect(await grpcCalls(metrics, 'GetJob')).toBe(ids.length);
    } finally {
      pool.close();
    }
  });

  it('looks the name up at most once per DNS_LOOKUP_MIN_INTERVAL_MS however often health is asked (readiness probes)', async () => {
    const pool = new ProcessorPool([target()], 10_000, createMetrics());
    try {
      const before = dns.queries;
      const started = performance.now();
      await Promise.all(Array.from({ length: 5 }, () => pool.health()));
      for (let i = 0; i < 5; i++) expect((await pool.health()).every((h) => h.serving)).toBe(true);
      const lookups = (dns.queries - before) / 2;
      expect(lookups).toBeGreaterThanOrEqual(1);
      expect(lookups).toBeLessThanOrEqual(1 + Math.floor((performance.now() - started) / DNS_LOOKUP_MIN_INTERVAL_MS));
    } finally {
      pool.close();
    }
  });

  it('follows the name: an address it no longer resolves to gets no health checks', async () => {
    const pool = new ProcessorPool([target()], 10_000, createMetrics());
    try {
      dns.answer(NAME, IPS.slice(0, 1));
      expect((await pool.health()).map((h) => h.address)).toEqual([`${IPS[0]}:${port}`]);
      expect(pool.addresses).toEqual([`${IPS[0]}:${port}`]);
    } finally {
      dns.answer(NAME, IPS);
      pool.close();
    }
  });
});

describeWithRedis('routers sharing Redis, processors by name', () => {
  const prefix = uniquePrefix('by-name');
  let routers: LocalRouter[] = [];

  beforeAll(async () => {
    const env = { REDIS_URL, REDIS_PREFIX: prefix, PROCESSOR_ADDR: target(), TRANSFER_MODE: 'stream', HEALTH_CHECK_INTERVAL_MS: '200' };
    routers = [await startLocalRouter(env), await startLocalRouter(env)];
  });

  afterAll(async () => {
    await Promise.all(routers.map((r) => r.stop(100)));
    await dropPrefix(prefix);
  });

  it("reads a job's processor from its owner record in Redis: another router finds it with one GetJob, and an unknown id costs none", async () => {
    const [first, second] = routers;
    const ids: string[] = [];
    for (let i = 0; i < 2; i++) {
      const res = await fetch(`${first.url}/protect`, { method: 'POST', body: form(meta, png) });
      expect(res.status).toBe(202);
      ids.push(((await res.json()) as { job_id: string }).job_id);
    }
    const before = await grpcCalls(second.metrics, 'GetJob');
    for (const id of ids) {
      const res = await fetch(`${second.url}/jobs/${id}`);
      expect(res.status).toBe(200);
    }
    expect((await grpcCalls(second.metrics, 'GetJob')) - before).toBe(ids.length);
    for (const id of ids) expect(await waitForJob(second.url, id)).toMatchObject({ status: 'completed' });

    const calls = await grpcCalls(second.metrics, 'GetJob');
    const unknown = await fetch(`${second.url}/jobs/00000000-0000-4000-8000-000000000000`);
    expect(unknown.status).toBe(404);
    expect(await grpcCalls(second.metrics, 'GetJob')).toBe(calls);
  });
});

import { LocalProcessor, LocalRouter, startLocalProcessor, startLocalRouter } from '../harness';
import { freePort } from '../ports';

describe('surfaces: metrics, CORS, readiness', () => {
  let processor: LocalProcessor;
  const routers: LocalRouter[] = [];
  const start = async (env: Record<string, string>) => {
    const router = await startLocalRouter({ PROCESSOR_ADDR: processor.address, ...env });
    routers.push(router);
    return router;
  };

  beforeAll(async () => {
    processor = await startLocalProcessor();
  });

  afterAll(async () => {
    await Promise.all(routers.map((r) => r.stop(100)));
    await processor.stop(0);
  });

  it('serves /metrics only with METRICS_TOKEN when it is set', async () => {
    const router = await start({ METRICS_TOKEN: 'metrics-secret' });
    expect((await fetch(`${router.url}/metrics`)).status).toBe(401);
    expect((await fetch(`${router.url}/metrics`, { headers: { Authorization: 'Bearer wrong' } })).status).toBe(401);
    const res = await fetch(`${router.url}/metrics`, { headers: { Authorization: 'Bearer metrics-secret' } });
    expect(res.status).toBe(200);
    expect(await res.text()).toMatch(/router_http_requests_total/);
  });

  it('serves /metrics on METRICS_PORT alone, and not on the API port', async () => {
    const port = await freePort();
    const router = await start({ METRICS_PORT: String(port) });
    expect((await fetch(`${router.url}/metrics`)).status).toBe(404);
    expect(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()).toMatch(/router_http_requests_total/);
  });

  it('answers CORS for the allowed origins only', async () => {
    const router = await start({ ALLOWED_ORIGINS: 'https://art.example' });
    const preflight = (origin: string) =>
      fetch(`${router.url}/protect`, { method: 'OPTIONS', headers: { Origin: origin, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'authorization' } });
    const ok = await preflight('https://art.example');
    expect(ok.headers.get('access-control-allow-origin')).toBe('https://art.example');
    expect(ok.headers.get('access-control-allow-headers')).toMatch(/authorization/i);
    expect((await preflight('https://evil.example')).headers.get('access-control-allow-origin')).toBeNull();
    const open = await start({});
    expect((await fetch(`${open.url}/health`, { headers: { Origin: 'https://art.example' } })).headers.get('access-control-allow-origin')).toBeNull();
  });

  it('keeps processor addresses and errors out of /health/ready and error bodies', async () => {
    const down = await start({ PROCESSOR_ADDR: `127.0.0.1:${await freePort()}` });
    const ready = await fetch(`${down.url}/health/ready`);
    const text = await ready.text();
    expect(ready.status).toBe(503);
    expect(JSON.parse(text)).toEqual({ status: 'not_ready', timestamp: expect.any(String), processors: { serving: 0, total: 1 } });
    expect(text).not.toMatch(/127\.0\.0\.1|UNAVAILABLE|ECONNREFUSED/);
    const job = await fetch(`${down.url}/jobs/some-id`);
    const body = await job.text();
    expect(job.status).toBe(503);
    expect(body).not.toMatch(/127\.0\.0\.1|at \w+ \(|ECONNREFUSED|No connection established/);
  });
});

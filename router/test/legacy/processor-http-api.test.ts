import http from 'node:http';
import { once } from 'node:events';
import { AddressInfo } from 'node:net';
import { ProcessorHttpApi } from '../../src/legacy/processor-http-api';
import { HttpError } from '../../src/http/errors';

/** A stand-in for the processor's HTTP API answering each path with a fixed status and JSON body, recording request ids. */
async function fakeApi(answers: Record<string, [number, unknown]>): Promise<{ url: string; requestIds: string[]; close(): void }> {
  const requestIds: string[] = [];
  const server = http.createServer((req, res) => {
    requestIds.push(String(req.headers['x-request-id']));
    req.resume();
    const [status, body] = answers[req.url ?? ''] ?? [404, { error: 'not found' }];
    res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requestIds, close: () => server.close() };
}

const ctx = { requestId: 'req-legacy-1' };

async function refusalOf(promise: Promise<unknown>): Promise<{ status: number; message: string; extra: Record<string, unknown> }> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(HttpError);
  const { status, message, extra } = err as HttpError;
  return { status, message, extra };
}

describe("the processor's HTTP API as legacy mode reaches it", () => {
  it('returns the accepted job and sends the request id', async () => {
    const api = await fakeApi({ '/v1/jobs': [202, { job_id: 'j1', status: 'queued' }] });
    try {
      await expect(new ProcessorHttpApi(api.url, 5000).submit('{}', ctx, true)).resolves.toEqual({ job_id: 'j1', status: 'queued' });
      expect(api.requestIds).toEqual(['req-legacy-1']);
    } finally {
      api.close();
    }
  });

  it("keeps a refusal's status, message and field; a 503 stays 503; any other 5xx is 502", async () => {
    const refusing = await fakeApi({ '/v1/jobs': [400, { error: 'artist_name is required', field: 'artist_name' }] });
    const busy = await fakeApi({ '/v1/jobs': [503, { error: 'busy' }] });
    const broken = await fakeApi({ '/v1/jobs': [500, { error: 'internal error' }] });
    try {
      expect(await refusalOf(new ProcessorHttpApi(refusing.url, 5000).submit('{}', ctx, true))).toEqual({ status: 400, message: 'artist_name is required', extra: { field: 'artist_name' } });
      expect((await refusalOf(new ProcessorHttpApi(busy.url, 5000).submit('{}', ctx, true))).status).toBe(503);
      expect(await refusalOf(new ProcessorHttpApi(broken.url, 5000).submit('{}', ctx, true))).toEqual({ status: 502, message: 'processor error', extra: {} });
    } finally {
      refusing.close();
      busy.close();
      broken.close();
    }
  });

  it('answers 502 to a success without a job id', async () => {
    const odd = await fakeApi({ '/v1/jobs': [200, { status: 'queued' }] });
    try {
      expect(await refusalOf(new ProcessorHttpApi(odd.url, 5000).submit('{}', ctx, true))).toEqual({ status: 502, message: 'processor error', extra: {} });
    } finally {
      odd.close();
    }
  });

  it('answers 503 when the processor cannot be reached, and readiness says not ready', async () => {
    const gone = await fakeApi({});
    gone.close();
    const api = new ProcessorHttpApi(gone.url, 5000);
    expect(await refusalOf(api.submit('{}', ctx, true))).toMatchObject({ status: 503, message: 'processor unavailable, retry later' });
    await expect(api.ready()).resolves.toBe(false);
  });

  it('is ready when /health answers 2xx', async () => {
    const api = await fakeApi({ '/health': [200, { status: 'ok' }] });
    try {
      await expect(new ProcessorHttpApi(api.url, 5000).ready()).resolves.toBe(true);
    } finally {
      api.close();
    }
  });
});

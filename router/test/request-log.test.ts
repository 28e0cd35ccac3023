import { Writable } from 'node:stream';
import { AddressInfo } from 'node:net';
import express from 'express';
import pino from 'pino';
import { useRequestLog } from '../src/http/request-log';

/* The access log and request ids, with a real pino logger writing into memory. */
async function serve(level: string) {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const app = express();
  useRequestLog(app, pino({ level }, sink));
  app.get('/work', (req, res) => {
    req.log.warn('inside the handler');
    res.status(201).json({ ok: true });
  });
  app.get('/health', (_req, res) => {
    res.json({});
  });
  let arrived: () => void = () => undefined;
  const hangArrived = new Promise<void>((resolve) => (arrived = resolve));
  app.get('/hang', () => arrived());
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, lines, hangArrived, server, close: () => new Promise((resolve) => server.close(resolve)) };
}

describe('request log', () => {
  it('gives every request an id, echoes it, binds it to req.log and writes one access line', async () => {
    const s = await serve('info');
    try {
      const res = await fetch(`${s.url}/work`, { headers: { 'X-Request-Id': 'trace-42' } });
      expect(res.headers.get('x-request-id')).toBe('trace-42');
      const fresh = await fetch(`${s.url}/work`, { headers: { 'X-Request-Id': 'bad id with spaces' } });
      expect(fresh.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
      await fetch(`${s.url}/health`);
      expect(s.lines.filter((l) => l.msg === 'inside the handler').map((l) => l.requestId)).toEqual(['trace-42', fresh.headers.get('x-request-id')]);
      const access = s.lines.filter((l) => l.msg === 'request completed');
      expect(access).toHaveLength(2);
      expect(access[0]).toMatchObject({ requestId: 'trace-42', method: 'GET', url: '/work', status: 201, responseTimeMs: expect.any(Number) });
    } finally {
      await s.close();
    }
  });

  it('logs a request the client gave up on before the answer', async () => {
    const s = await serve('info');
    try {
      const abort = new AbortController();
      const gone = fetch(`${s.url}/hang`, { headers: { 'X-Request-Id': 'trace-gone' }, signal: abort.signal }).catch(() => undefined);
      await s.hangArrived;
      abort.abort();
      await gone;
      while (!s.lines.some((l) => l.requestId === 'trace-gone')) await new Promise((resolve) => setImmediate(resolve));
      expect(s.lines.find((l) => l.requestId === 'trace-gone')).toMatchObject({ msg: 'request aborted before the response was sent', url: '/hang' });
      s.server.closeAllConnections();
    } finally {
      await s.close();
    }
  });

  it('writes no access line below its level, but still logs through req.log', async () => {
    const s = await serve('warn');
    try {
      await fetch(`${s.url}/work`, { headers: { 'X-Request-Id': 'trace-7' } });
      expect(s.lines.map((l) => l.msg)).toEqual(['inside the handler']);
      expect(s.lines[0].requestId).toBe('trace-7');
    } finally {
      await s.close();
    }
  });
});

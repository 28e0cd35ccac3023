import net from 'node:net';
import { Latency, LoadJob, LoadResult, idVariation } from './load-types';

/**
 * Open-loop load at a fixed rate over keep-alive HTTP/1.1 connections, on raw sockets with
 * a pre-built request and a minimal response parser (status line + Content-Length), so that
 * the generator itself stays cheap (node:http's client cannot pace a few thousand requests
 * per second on a core it shares with the server). Request i is due at start + i / rate; it
 * goes out on the first idle connection, and waits in a queue while none is idle, so the
 * latency counted from the due time includes any queueing (no coordinated omission).
 */

interface Pending {
  dueMs: number;
  measured: boolean;
  sentAt?: number;
}

interface Conn {
  socket: net.Socket;
  buf: Buffer;
  current?: Pending;
  ready: boolean;
}

function latencyOf(values: number[]): Latency {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return { p50: Number.NaN, p90: Number.NaN, p99: Number.NaN, max: Number.NaN, mean: Number.NaN };
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
  return { p50: at(0.5), p90: at(0.9), p99: at(0.99), max: sorted[sorted.length - 1], mean: sorted.reduce((a, b) => a + b, 0) / sorted.length };
}

function requestBytes(job: LoadJob): Buffer {
  const url = new URL(job.request.url);
  const body = job.request.bodyBase64 ? Buffer.from(job.request.bodyBase64, 'base64') : Buffer.alloc(0);
  const headers = Object.entries(job.request.headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  const length = job.request.method === 'GET' && body.length === 0 ? '' : `content-length: ${body.length}\r\n`;
  const head = `${job.request.method} ${url.pathname}${url.search} HTTP/1.1\r\nhost: ${url.host}\r\nconnection: keep-alive\r\n${headers}${length}\r\n`;
  return Buffer.concat([Buffer.from(head, 'latin1'), body]);
}

/** Bytes of one complete response at the start of `buf` and its status, or undefined if incomplete. */
function parseResponse(buf: Buffer): { length: number; status: number } | undefined {
  const end = buf.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const head = buf.toString('latin1', 0, end);
  const status = Number(head.slice(9, 12));
  const match = /\r\ncontent-length:\s*(\d+)/i.exec(head);
  if (!match) throw new Error(`response without Content-Length: ${head.slice(0, 200)}`);
  const length = end + 4 + Number(match[1]);
  return buf.length >= length ? { length, status } : undefined;
}

export async function paced(job: LoadJob, onStart: () => void, cpuMs: (since: NodeJS.CpuUsage) => number): Promise<LoadResult> {
  const rate = job.rate ?? 0;
  if (!(rate > 0)) throw new Error('paced needs a rate');
  const url = new URL(job.request.url);
  const request = requestBytes(job);
  const varied = idVariation(job.request, request);
  const intervalMs = 1000 / rate;
  const warmupMs = (job.warmupSec ?? 1) * 1000;
  const endMs = warmupMs + job.durationSec * 1000;
  const fromDue: number[] = [];
  const fromSend: number[] = [];
  const statusCodes: Record<string, number> = {};
  let ok2xx = 0;
  let non2xx = 0;
  let errors = 0;
  const queue: Pending[] = [];
  let queueHead = 0;
  const conns: Conn[] = [];
  let t0 = 0;

  const dispatch = (conn: Conn): void => {
    if (!conn.ready || conn.current || queueHead >= queue.length) return;
    const p = queue[queueHead++];
    p.sentAt = performance.now();
    conn.current = p;
    conn.socket.write(varied ? varied() : request);
  };
  const dispatchAll = (): void => {
    for (const c of conns) {
      if (queueHead >= queue.length) break;
      dispatch(c);
    }
    if (queueHead > 4096 && queueHead * 2 > queue.length) {
      queue.splice(0, queueHead);
      queueHead = 0;
    }
  };
  const open = (conn: Conn): Promise<void> =>
    new Promise((resolve) => {
      const socket = net.connect({ host: url.hostname, port: Number(url.port) });
      socket.setNoDelay(true);
      conn.socket = socket;
      conn.buf = Buffer.alloc(0);
      conn.ready = false;
      socket.once('connect', () => {
        conn.ready = true;
        resolve();
        dispatch(conn);
      });
      socket.on('data', (chunk: Buffer) => {
        conn.buf = conn.buf.length ? Buffer.concat([conn.buf, chunk]) : chunk;
        for (;;) {
          const r = parseResponse(conn.buf);
          if (!r) break;
          conn.buf = conn.buf.subarray(r.length);
          const p = conn.current;
          conn.current = undefined;
          if (p?.measured) {
            const now = performance.now();
            statusCodes[r.status] = (statusCodes[r.status] ?? 0) + 1;
            if (r.status >= 200 && r.status < 300) {
              ok2xx++;
              fromDue.push(now - (t0 + p.dueMs));
              fromSend.push(now - (p.sentAt ?? now));
            } else non2xx++;
          }
          dispatch(conn);
        }
      });
      socket.on('error', () => undefined);
      socket.once('close', () => {
        if (conn.current?.measured) errors++;
        conn.current = undefined;
        conn.ready = false;
        if (!stopped) void open(conn);
        resolve();
      });
    });

  let stopped = false;
  await Promise.all(
    Array.from({ length: job.connections }, () => {
      const conn = { buf: Buffer.alloc(0), ready: false } as Conn;
      conns.push(conn);
      return open(conn);
    }),
  );
  let cpu = process.cpuUsage();
  t0 = performance.now();
  let next = 0;
  await new Promise<void>((resolve) => {
    let started = false;
    const tick = (): void => {
      const now = performance.now() - t0;
      if (!started && now >= warmupMs) {
        started = true;
        cpu = process.cpuUsage();
        onStart();
      }
      while (next * intervalMs <= now && next * intervalMs < endMs) {
        queue.push({ dueMs: next * intervalMs, measured: next * intervalMs >= warmupMs });
        next++;
      }
      dispatchAll();
      if (next * intervalMs < endMs) {
        setTimeout(tick, 1);
        return;
      }
      const giveUp = performance.now() + 10_000;
      const drain = (): void => {
        dispatchAll();
        const busy = queueHead < queue.length || conns.some((c) => c.current);
        if (!busy || performance.now() > giveUp) resolve();
        else setTimeout(drain, 2);
      };
      drain();
    };
    tick();
  });
  const generatorCpuMs = cpuMs(cpu);
  stopped = true;
  const unanswered = queue.length - queueHead + conns.filter((c) => c.current?.measured).length;
  for (const c of conns) c.socket.destroy();
  return {
    id: job.id,
    kind: job.kind,
    connections: job.connections,
    durationSec: job.durationSec,
    targetRate: rate,
    responses: ok2xx + non2xx,
    ok2xx,
    non2xx,
    errors: errors + unanswered,
    timeouts: unanswered,
    rate: ok2xx / job.durationSec,
    latency: latencyOf(fromDue),
    latencyFromSend: latencyOf(fromSend),
    generatorCpuMs,
    statusCodes,
  };
}

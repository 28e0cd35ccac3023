import { once } from 'node:events';
import express, { Request } from 'express';
import { JobBackend } from '../jobs/backend';
import { callContext } from '../http/context';
import { downloadHeaders, servedType } from '../http/download-headers';

/** How often an idle SSE stream sends a comment so proxies keep it open. */
const SSE_HEARTBEAT_MS = 15_000;

function lastEventId(req: Request): number {
  const raw = req.get('Last-Event-ID') ?? (typeof req.query.lastEventId === 'string' ? req.query.lastEventId : undefined);
  const value = Number(raw);
  return Number.isInteger(value) && value > 0 ? value : 0;
}

/** The original router's job API, answered from whichever backend the transfer mode uses. */
export function jobRoutes(router: express.IRouter, backend: JobBackend): void {
  router.get('/jobs/:id', async (req, res) => {
    res.json(await backend.status(req.params.id, callContext(req)));
  });

  router.get('/jobs/:id/result', async (req, res) => {
    const answer = await backend.result(req.params.id, callContext(req));
    if (answer.done) res.json(answer.body);
    else res.status(409).json({ error: `job is ${answer.status.status}, not completed`, ...answer.status });
  });

  router.get('/jobs/:id/download/:variant', async (req, res) => {
    const { id, variant } = req.params;
    const download = await backend.download(id, variant, callContext(req));
    if (download.redirect) {
      res.redirect(302, download.redirect);
      return;
    }
    res.on('close', () => {
      if (!res.writableFinished) download.abort();
    });
    const chunks = download.body[Symbol.asyncIterator]();
    const first = await chunks.next();
    const head = first.done ? Buffer.alloc(0) : first.value;
    for (const [name, value] of Object.entries(downloadHeaders(id, variant, servedType(variant, download.contentType, head)))) res.setHeader(name, value);
    if (download.length > 0) res.setHeader('Content-Length', String(download.length));
    if (!first.done && !res.write(head)) await once(res, 'drain');
    for (let next = await chunks.next(); !next.done; next = await chunks.next()) {
      if (!res.write(next.value)) await once(res, 'drain');
    }
    res.end();
  });

  router.get('/jobs/:id/events', async (req, res) => {
    const ctx = callContext(req);
    await backend.status(req.params.id, ctx);
    const after = lastEventId(req);
    const stop = new AbortController();
    res.on('close', () => stop.abort());
    res.writeHead(200, {
      'Content-Type': 'text/event-stream',
      'Cache-Control': 'no-cache, no-transform',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    res.write('retry: 2000\n\n');
    const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), SSE_HEARTBEAT_MS);
    try {
      for await (const event of backend.events(req.params.id, ctx, stop.signal)) {
        if (event.sequence > after || event.terminal) {
          res.write(`id: ${event.sequence}\nevent: ${event.terminal ? 'done' : 'progress'}\ndata: ${JSON.stringify(event.status)}\n\n`);
        }
        if (event.terminal) break;
      }
    } catch (err) {
      if (!stop.signal.aborted) res.write(`event: error\ndata: ${JSON.stringify({ error: 'progress stream interrupted' })}\n\n`);
      req.log.warn({ err }, 'event stream ended with an error');
    } finally {
      clearInterval(heartbeat);
      res.end();
    }
  });

  router.delete('/jobs/:id', async (req, res) => {
    res.json(await backend.cancel(req.params.id, callContext(req)));
  });
}

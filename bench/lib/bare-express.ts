/**
 * Baseline for the API benchmark: an Express app whose only route answers 202 to POST
 * /protect with a body the size of the router's answer, and nothing else (no body parsing,
 * no logging, no metrics, no validation, no store or Redis). PORT and HOST from the
 * environment. BARE_SERVER=prototypes serves it the way the router serves its app
 * (createExpressServer: requests born with the app's prototypes); by default app.listen.
 */
import { randomUUID } from 'node:crypto';
import express from 'express';
import { createExpressServer } from '../../router/src/http/express-server';

const app = express();
app.disable('x-powered-by');
app.disable('etag');
app.post('/protect', (_req, res) => {
  res.status(202).json({ job_id: randomUUID(), status: 'queued' });
});
const port = Number(process.env.PORT ?? 0);
const host = process.env.HOST ?? '127.0.0.1';
const server = process.env.BARE_SERVER === 'prototypes' ? createExpressServer(app).listen(port, host) : app.listen(port, host);
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => server.close(() => process.exit(0)));

/**
 * Baseline for the API benchmark: an Express app whose only route answers 202 to POST
 * /protect with a body the size of the router's answer, and nothing else (no body parsing,
 * no logging, no metrics, no validation, no store or Redis). PORT and HOST from the environment.
 */
import { randomUUID } from 'node:crypto';
import express from 'express';

const app = express();
app.disable('x-powered-by');
app.disable('etag');
app.post('/protect', (_req, res) => {
  res.status(202).json({ job_id: randomUUID(), status: 'queued' });
});
const server = app.listen(Number(process.env.PORT ?? 0), process.env.HOST ?? '127.0.0.1');
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => server.close(() => process.exit(0)));

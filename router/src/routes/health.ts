import express from 'express';
import { TransferMode } from '../config';
import { ProcessorHttpApi } from '../legacy/processor-http-api';

const VERSION = '1.0.0';

/** Whether each processor serves: what readiness counts. */
export type ProcessorReadiness = () => Promise<{ serving: boolean }[]>;

/** `legacy` mode's processor answers its HTTP API's /health. */
export function legacyReadiness(api: ProcessorHttpApi): ProcessorReadiness {
  return async () => [{ serving: await api.ready() }];
}

export interface HealthOptions {
  mode: TransferMode;
  retryAfterSeconds: number;
  /** grpc.health.v1 on every processor, or the legacy HTTP API's /health (chosen when the router is assembled). */
  readiness: ProcessorReadiness;
  /** True once the router has begun its graceful stop. */
  draining: () => boolean;
}

/**
 * Liveness says the process answers; readiness asks the processors, and is 503 `draining`
 * once the router has begun its graceful stop (for DRAIN_DELAY_MS it still serves everything
 * else), so a load balancer takes it out before it stops accepting.
 */
export function healthRoutes(router: express.IRouter, options: HealthOptions): void {
  const started = Date.now();

  const alive = (_req: express.Request, res: express.Response) => {
    res.json({ status: 'alive', timestamp: new Date().toISOString(), uptime: (Date.now() - started) / 1000, version: VERSION, mode: options.mode });
  };
  router.get('/health', alive);
  router.get('/health/live', alive);

  // Public and unauthenticated: it counts processors, and never names their addresses or errors.
  router.get('/health/ready', async (_req, res) => {
    if (options.draining()) {
      res.status(503).json({ status: 'draining', timestamp: new Date().toISOString() });
      return;
    }
    const processors = await options.readiness();
    const serving = processors.filter((p) => p.serving).length;
    const ready = serving > 0;
    if (!ready) res.setHeader('Retry-After', String(options.retryAfterSeconds));
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not_ready', timestamp: new Date().toISOString(), processors: { serving, total: processors.length } });
  });
}

import express from 'express';
import { RouterConfig } from '../config';
import { ProcessorPool } from '../grpc/processor-pool';

const VERSION = '1.0.0';

async function legacyReady(baseUrl: string, timeoutMs: number): Promise<{ address: string; serving: boolean; error?: string }[]> {
  try {
    const res = await fetch(`${baseUrl}/health`, { signal: AbortSignal.timeout(timeoutMs) });
    return [{ address: baseUrl, serving: res.ok }];
  } catch {
    return [{ address: baseUrl, serving: false, error: 'unreachable' }];
  }
}

/**
 * Liveness says the process answers; readiness asks the processors (grpc.health.v1), and is
 * 503 `draining` once the router has begun its graceful stop (for DRAIN_DELAY_MS it still serves
 * everything else), so a load balancer takes it out before it stops accepting.
 */
export function healthRoutes(router: express.IRouter, config: RouterConfig, pool: ProcessorPool, draining: () => boolean = () => false): void {
  const started = Date.now();

  const alive = (_req: express.Request, res: express.Response) => {
    res.json({ status: 'alive', timestamp: new Date().toISOString(), uptime: (Date.now() - started) / 1000, version: VERSION, mode: config.mode });
  };
  router.get('/health', alive);
  router.get('/health/live', alive);

  // Public and unauthenticated: it counts processors, and never names their addresses or errors.
  router.get('/health/ready', async (_req, res) => {
    if (draining()) {
      res.status(503).json({ status: 'draining', timestamp: new Date().toISOString() });
      return;
    }
    const processors = config.mode === 'legacy' ? await legacyReady(config.processorHttpUrl, config.processorHttpTimeoutMs) : await pool.health();
    const serving = processors.filter((p) => p.serving).length;
    const ready = serving > 0;
    if (!ready) res.setHeader('Retry-After', String(config.retryAfterSeconds));
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not_ready', timestamp: new Date().toISOString(), processors: { serving, total: processors.length } });
  });
}

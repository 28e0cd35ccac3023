import { startRouter } from './app';
import { loadConfig } from './config';
import { logger } from './logger';

async function main(): Promise<void> {
  const running = await startRouter(loadConfig(), logger);
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      logger.info({ signal }, 'shutting down; letting in-flight requests finish');
      running.stop().then(
        () => process.exit(0),
        (err: unknown) => {
          logger.error({ err }, 'shutdown failed');
          process.exit(1);
        },
      );
    });
  }
}

main().catch((err: unknown) => {
  logger.error({ err }, 'router failed to start');
  process.exit(1);
});

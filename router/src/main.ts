import { exitOnSignals } from '@artorizer/service-kit';
import { startRouter } from './app';
import { loadConfig } from './config';
import { logger } from './logger';

async function main(): Promise<void> {
  const running = await startRouter(loadConfig(), logger);
  exitOnSignals(() => running.stop(), logger);
}

main().catch((err: unknown) => {
  logger.error({ err }, 'router failed to start');
  process.exit(1);
});

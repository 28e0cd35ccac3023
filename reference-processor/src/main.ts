import { exitOnSignals } from '@artorizer/service-kit';
import { startProcessor } from './app';
import { loadConfig } from './config';
import { logger } from './logger';

async function main(): Promise<void> {
  const running = await startProcessor(loadConfig(), logger);
  exitOnSignals(() => running.stop(), logger);
}

main().catch((err: unknown) => {
  logger.error({ err }, 'processor failed to start');
  process.exit(1);
});

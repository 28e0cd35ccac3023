import pino from 'pino';
import { LOG_LEVEL, readSetting } from '@artorizer/service-kit';

/** Structured JSON logs; `LOG_LEVEL` (default info, "silent" in tests). */
export const logger = pino({
  name: 'processor',
  level: readSetting(process.env, LOG_LEVEL) ?? (process.env.JEST_WORKER_ID ? 'silent' : 'info'),
});
export type Logger = typeof logger;

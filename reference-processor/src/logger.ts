import pino from 'pino';

/** Structured JSON logs; `LOG_LEVEL` (default info, "silent" in tests). */
export const logger = pino({
  name: 'processor',
  level: process.env.LOG_LEVEL ?? (process.env.JEST_WORKER_ID ? 'silent' : 'info'),
});
export type Logger = typeof logger;

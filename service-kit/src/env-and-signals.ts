/** Small pieces every service process of this project needs. */

export type Env = Record<string, string | undefined>;

/** An integer setting from the environment, checked at start-up. */
export function envInt(env: Env, name: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${name} must be an integer between ${min} and ${max}, got "${raw}"`);
  }
  return value;
}

interface SignalLogger {
  info(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** On SIGTERM or SIGINT: run the graceful `stop`, then exit 0 (1 when stopping fails). */
export function exitOnSignals(stop: () => Promise<void>, log: SignalLogger): void {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      log.info({ signal }, 'shutting down');
      stop().then(
        () => process.exit(0),
        (err: unknown) => {
          log.error({ err }, 'shutdown failed');
          process.exit(1);
        },
      );
    });
  }
}

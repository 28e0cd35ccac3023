/** Small pieces every service process of this project needs. */

export type Env = Record<string, string | undefined>;

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

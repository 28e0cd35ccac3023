import { AddressPolicy } from '@artorizer/net-guard';
import { integer, list, milliseconds, oneOf, text } from '../setting';

/*
 * Settings every service process reads. A service whose default or meaning differs says so with
 * `adapt(...)` in its own sections; the name, the checks and the range stay declared here.
 */

export const HOST = text({ name: 'HOST', default: '0.0.0.0', meaning: 'bind address' });

/** pino's levels. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** Unset is `info` (`silent` under jest): the logger decides. */
export const LOG_LEVEL = oneOf({ name: 'LOG_LEVEL', choices: LOG_LEVELS, default: undefined, defaultText: 'info', meaning: 'pino log level (JSON logs on stdout)' });

export const SHUTDOWN_GRACE_MS = milliseconds({ name: 'SHUTDOWN_GRACE_MS', default: 30_000, min: 0, meaning: 'how long SIGTERM waits for work in flight' });

/** Unset is `defaultWorkRoot(service)`: the service's assembler derives it. */
export const WORK_DIR = text({ name: 'WORK_DIR', default: undefined, meaning: 'working directory (0700)' });

export const MAX_FILE_SIZE = integer({ name: 'MAX_FILE_SIZE', default: 256 * 1024 * 1024, defaultText: '268435456 (256 MiB)', min: 1, meaning: 'largest image in bytes' });

export const IMAGE_URL_ALLOWLIST = list({
  name: 'IMAGE_URL_ALLOWLIST',
  default: [],
  meaning: 'hosts, IPs or CIDR ranges image URLs may reach although private',
  check: (entries) => {
    try {
      new AddressPolicy(entries);
      return undefined;
    } catch (err) {
      return `has an entry that is not a host, IP or CIDR range (${(err as Error).message})`;
    }
  },
});

export const JOB_RETENTION_SECONDS = integer({ name: 'JOB_RETENTION_SECONDS', default: 86_400, min: 1, meaning: 'how long job records are kept' });

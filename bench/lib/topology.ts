import { Getter, fetchGetter } from './client';
import { Host, LOCAL } from './host';

/** Bytes through a network interface so far (its kernel counters). */
export interface LinkCounters {
  rxBytes: number;
  txBytes: number;
}

/**
 * Where the client, router(s), processor and store run and how they reach each other:
 * all on loopback (bench/run-all.ts), or each in its own network namespace with rate-limited
 * links (bench/net.ts).
 */
export interface Topology {
  name: string;
  client: Host;
  router: Host;
  processor: Host;
  store: Host;
  /** Bind address of every service (HOST). */
  bind: string;
  routerIp: string;
  processorIp: string;
  storeIp: string;
  /** How the benchmark process asks the processor for a job's state (outside the timing). */
  processorGetter: Getter;
  settlePollMs: number;
  /** Counters of the router's network interface, where the router has one of its own. */
  routerLink?: () => Promise<LinkCounters>;
  /** One line for the report. */
  description: string;
}

export const LOOPBACK: Topology = {
  name: 'loopback',
  client: LOCAL,
  router: LOCAL,
  processor: LOCAL,
  store: LOCAL,
  bind: '127.0.0.1',
  routerIp: '127.0.0.1',
  processorIp: '127.0.0.1',
  storeIp: '127.0.0.1',
  processorGetter: fetchGetter,
  settlePollMs: 5,
  description: 'every process on this machine, talking over loopback (127.0.0.1)',
};

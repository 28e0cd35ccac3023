import { ApiSection } from './api';
import { ConcurrencySample } from './concurrency';
import { JobSample } from './job-sample';
import { CodeState, MachineInfo } from './machine';
import { HostsOptions, HostsSection, HostsSkipped } from './hosts-run';
import { NetSection, NetSkipped } from './net-run';
import { PhotoSection } from './photo-run';
import { ResumeSection } from './resume-run';
import { SerializationResult } from './serialization';
import { ConcurrencyRow, TransferRow } from './transfer-summary';

export interface RunOptions {
  smoke: boolean;
  /** After a run of some sections: put them into bench/results/latest.json in place of that run's, and re-render docs/benchmarks.md. */
  updateLatest?: boolean;
  sizes: number[];
  runs: number;
  /** Read it with `loopbackRunsOf`: records made before the flag lack it. */
  loopbackRuns?: number;
  sections: Section[];
  boundSizes: [number, number];
  concurrency: { uploads: number; sizeMiB: number };
  /** The file of the resume section (an upload cut half-way, resumed through tus vs started over). */
  resume: { sizeMiB: number };
  serialization: { reps: number; targetMs: number };
  api: { connections: number; maxSeconds: number; latencySeconds: number; warmupSeconds: number; pacerWarmupSeconds: number; redisUrl: string };
  net: { rateMbit: number };
  /** The generated photograph's dimensions (section `photo`). */
  photo: { width: number; height: number };
  /** Throughput per host (section `hosts`). */
  hosts: HostsOptions;
}

/**
 * Measured runs in the loopback transfer and concurrency sections, whose verdicts compare
 * routers that differ by less than one run's noise; `runs` in records made before that count.
 */
export function loopbackRunsOf(options: RunOptions): number {
  return options.loopbackRuns ?? options.runs;
}

export const SECTIONS = ['serialization', 'transfer', 'bound', 'concurrency', 'resume', 'api', 'net', 'photo', 'hosts'] as const;
export type Section = (typeof SECTIONS)[number];

export interface ServiceInfo {
  label: string;
  pid: number;
  command: string;
  env?: Record<string, string>;
}

export interface TransferRecord {
  topology: string;
  description: string;
  memoryMethods: string[];
  services: ServiceInfo[];
  samples: JobSample[];
  rows: TransferRow[];
  /** Unrecorded jobs each contender served before its warm-ups (absent in records made before priming). */
  primeJobs?: number;
  primeSizeMiB?: number;
}

export interface RunRecord {
  benchmark: 'run-all';
  command: string;
  smoke: boolean;
  startedAt: string;
  finishedAt?: string;
  durationSec?: number;
  machine: MachineInfo & { redisVersion?: string };
  options: RunOptions;
  /** Wall time of each section, seconds. */
  sectionSeconds: Partial<Record<Section, number>>;
  /** Router settings the benchmark leaves at their defaults, read from router/src/config.ts at the start. */
  routerDefaults: { chunkBytes: number; s3PartBytes: number; s3QueueSize: number; autoS3ThresholdBytes: number | null };
  /**
   * Sections measured by a later run of some sections only and merged into this record
   * (`--update-latest`): which run, so that the report says so.
   */
  sectionRuns?: Partial<Record<Section, { command: string; startedAt: string; durationSec: number; loadavgAtStart: number[]; loadavgAtEnd: number[] }>>;
  /** The code (commit and working-tree changes) when each section started: it may change during a run. */
  sectionCode: Partial<Record<Section, CodeState>>;
  serialization?: SerializationResult;
  transfer?: TransferRecord;
  bound?: { samples: JobSample[]; rows: TransferRow[] };
  concurrency?: { samples: ConcurrencySample[]; rows: ConcurrencyRow[] };
  resume?: ResumeSection;
  api?: ApiSection;
  net?: NetSection | NetSkipped;
  photo?: PhotoSection;
  hosts?: HostsSection | HostsSkipped;
  errors: { section: Section; message: string }[];
  /** Lines the services logged at warn or above. */
  serviceLogs: { label: string; lines: string[] }[];
}

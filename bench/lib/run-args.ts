import { FlagValues, commandLine, count, nameList, positive, sizesMiB } from './cli';
import { RunOptions, SECTIONS, Section } from './record';

/**
 * Runs per contender in the loopback transfer and concurrency sections. Their verdicts compare
 * routers on one path (make up's router and the stream router relay alike) whose medians of 5
 * runs differed by up to 1.38× from run to run; these runs are short, so more of them is cheap.
 */
const LOOPBACK_RUNS = 11;

/** The sections --smoke runs when --sections is not given. */
const SMOKE_SECTIONS: Section[] = ['serialization', 'transfer', 'resume', 'api', 'photo', 'hosts'];

/** bench/run-all.ts's command line (`make bench`, `make bench-smoke`). */
export const RUN_ALL_CLI = commandLine({
  script: 'bench/run-all.ts',
  about: `Runs every benchmark against the project's own stack (started and stopped here) and writes
bench/results/latest.json and docs/benchmarks.md (--smoke: bench/results/smoke.json only;
--sections, or a section that failed: bench/results/partial.json only).`,
  flags: {
    smoke: {
      kind: 'switch',
      help: `CI check: 1 MiB (transfer and resume), one run per transfer mode,
1 s API runs, short serialization, a 1600x1200 photograph
instead of 8000x6000, 1 s submit runs and 4 uploads and 4 jobs
per hosts run (no warm-up); exits non-zero if any mode does not get
its 202`,
    },
    runs: { kind: 'value', sample: 'N', help: 'measured runs per contender (default 5; smoke 1)' },
    'loopback-runs': {
      kind: 'value',
      sample: 'N',
      help: `measured runs per contender in the loopback transfer and
concurrency sections (default 11; smoke 1)`,
    },
    sizes: { kind: 'value', sample: '1,10,50,200', help: 'transfer sizes in MiB (smoke 1)' },
    sections: { kind: 'value', sample: 'a,b', help: `any of ${SECTIONS.join(', ')} (default all; smoke: ${SMOKE_SECTIONS.join(', ')})` },
    'api-seconds': { kind: 'value', sample: '10', help: 'length of each max-rate run (smoke 1)' },
    'latency-seconds': { kind: 'value', sample: '10', help: 'length of each latency run (smoke 1)' },
    connections: { kind: 'value', sample: '64', help: 'autocannon connections' },
    'redis-url': { kind: 'value', sample: 'URL', help: 'default $REDIS_URL or redis://127.0.0.1:6379' },
    'net-rate': { kind: 'value', sample: '100', help: 'Mbit/s per link in the constrained-links section' },
    'update-latest': {
      kind: 'switch',
      help: `with --sections: put those sections of this run into
bench/results/latest.json in place of the last full run's (the
report names the run each came from) and re-render docs/benchmarks.md`,
    },
    'hosts-seconds': { kind: 'value', sample: '10', help: 'length of each submit run of the hosts section (smoke 1)' },
  },
});

export function runOptions(flags: FlagValues<typeof RUN_ALL_CLI.flags>): RunOptions {
  const smoke = flags.smoke;
  const sections = flags.sections === undefined ? (smoke ? SMOKE_SECTIONS : [...SECTIONS]) : nameList(flags.sections);
  if (sections.length === 0) throw new Error('--sections: at least one');
  for (const s of sections) if (!(SECTIONS as readonly string[]).includes(s)) throw new Error(`--sections: unknown "${s}"; known: ${SECTIONS.join(', ')}`);
  const runs = count(flags.runs, smoke ? 1 : 5, 'runs');
  const loopbackRuns = count(flags['loopback-runs'], smoke ? 1 : LOOPBACK_RUNS, 'loopback-runs');
  if (flags['update-latest'] && (smoke || flags.sections === undefined)) throw new Error('--update-latest: with --sections, not with --smoke');
  return {
    smoke,
    updateLatest: flags['update-latest'],
    sizes: sizesMiB(flags.sizes ?? (smoke ? '1' : '1,10,50,200'), 'sizes'),
    runs,
    loopbackRuns,
    sections: sections as Section[],
    boundSizes: [20, 200],
    concurrency: { uploads: 16, sizeMiB: 10 },
    resume: { sizeMiB: smoke ? 1 : 50 },
    serialization: smoke ? { reps: 3, targetMs: 50 } : { reps: 10, targetMs: 200 },
    api: {
      connections: positive(flags.connections, 64, 'connections'),
      maxSeconds: positive(flags['api-seconds'], smoke ? 1 : 10, 'api-seconds'),
      latencySeconds: positive(flags['latency-seconds'], smoke ? 1 : 10, 'latency-seconds'),
      warmupSeconds: smoke ? 0 : 3,
      pacerWarmupSeconds: smoke ? 0.5 : 1,
      redisUrl: flags['redis-url'] ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    },
    net: { rateMbit: positive(flags['net-rate'], 100, 'net-rate') },
    // 8000x6000 (48 Mpx) at JPEG quality 95 is about 52 MiB: the 50 MB photograph
    photo: smoke ? { width: 1600, height: 1200 } : { width: 8000, height: 6000 },
    hosts: {
      connections: positive(flags.connections, 64, 'connections'),
      submitSeconds: positive(flags['hosts-seconds'], smoke ? 1 : 10, 'hosts-seconds'),
      streamUploads: smoke ? 4 : 48,
      streamConcurrency: 4,
      streamMiB: 10,
      jobs: smoke ? 4 : 24,
      jobConcurrency: 8,
      photo: smoke ? { width: 640, height: 480 } : { width: 1600, height: 1200 },
    },
  };
}

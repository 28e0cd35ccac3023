import { parseArgs } from 'node:util';
import { numberList } from './script';
import { RunOptions, SECTIONS, Section } from './record';

export const RUN_ALL_USAGE = `usage: node_modules/.bin/tsx bench/run-all.ts [options]

Runs every benchmark against the project's own stack (started and stopped here) and writes
bench/results/latest.json and docs/benchmarks.md (--smoke: bench/results/smoke.json only;
--sections, or a section that failed: bench/results/partial.json only).

  --smoke                  CI check: 1 MiB (transfer and resume), one run per transfer mode,
                           1 s API runs, short serialization, a 1600x1200 photograph
                           instead of 8000x6000, 1 s submit runs and 4 uploads and 4 jobs
                           per hosts run (no warm-up); exits non-zero if any mode does not get
                           its 202
  --runs N                 measured runs per contender (default 5; smoke 1)
  --sizes 1,10,50,200      transfer sizes in MiB (smoke 1)
  --sections a,b           any of ${SECTIONS.join(', ')} (default all; smoke: serialization, transfer, resume, api, photo, hosts)
  --api-seconds 10         length of each max-rate run (smoke 1)
  --latency-seconds 10     length of each latency run (smoke 1)
  --connections 64         autocannon connections
  --redis-url URL          default $REDIS_URL or redis://127.0.0.1:6379
  --net-rate 100           Mbit/s per link in the constrained-links section
  --update-latest          with --sections: put those sections of this run into
                           bench/results/latest.json in place of the last full run's (the
                           report names the run each came from) and re-render docs/benchmarks.md
  --hosts-seconds 10       length of each submit run of the hosts section (smoke 1)
  --help`;

/** Sizes in MiB: at least one, each in (0, 1024]. */
function list(raw: string, name: string): number[] {
  const values = numberList(raw, name, (n) => n > 0 && n <= 1024);
  if (values.length === 0) throw new Error(`--${name}: at least one value`);
  return values;
}

function positive(raw: string | undefined, fallback: number, name: string): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name}: bad value "${raw}"`);
  return n;
}

export function parseRunOptions(argv: string[]): RunOptions | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      smoke: { type: 'boolean', default: false },
      runs: { type: 'string' },
      sizes: { type: 'string' },
      sections: { type: 'string' },
      'api-seconds': { type: 'string' },
      'latency-seconds': { type: 'string' },
      connections: { type: 'string' },
      'redis-url': { type: 'string' },
      'net-rate': { type: 'string' },
      'hosts-seconds': { type: 'string' },
      'update-latest': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) return 'help';
  const smoke = values.smoke ?? false;
  const sections = (values.sections ?? (smoke ? 'serialization,transfer,resume,api,photo,hosts' : SECTIONS.join(','))).split(',').map((s) => s.trim());
  for (const s of sections) if (!(SECTIONS as readonly string[]).includes(s)) throw new Error(`--sections: unknown "${s}"; known: ${SECTIONS.join(', ')}`);
  const runs = positive(values.runs, smoke ? 1 : 5, 'runs');
  if (!Number.isInteger(runs)) throw new Error('--runs: an integer');
  if (values['update-latest'] && (smoke || values.sections === undefined)) throw new Error('--update-latest: with --sections, not with --smoke');
  return {
    smoke,
    updateLatest: values['update-latest'] ?? false,
    sizes: list(values.sizes ?? (smoke ? '1' : '1,10,50,200'), 'sizes'),
    runs,
    sections: sections as Section[],
    boundSizes: [20, 200],
    concurrency: { uploads: 16, sizeMiB: 10 },
    resume: { sizeMiB: smoke ? 1 : 50 },
    serialization: smoke ? { reps: 3, targetMs: 50 } : { reps: 10, targetMs: 200 },
    api: {
      connections: positive(values.connections, 64, 'connections'),
      maxSeconds: positive(values['api-seconds'], smoke ? 1 : 10, 'api-seconds'),
      latencySeconds: positive(values['latency-seconds'], smoke ? 1 : 10, 'latency-seconds'),
      warmupSeconds: smoke ? 0 : 3,
      pacerWarmupSeconds: smoke ? 0.5 : 1,
      redisUrl: values['redis-url'] ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    },
    net: { rateMbit: positive(values['net-rate'], 100, 'net-rate') },
    // 8000x6000 (48 Mpx) at JPEG quality 95 is about 52 MiB: the 50 MB photograph
    photo: smoke ? { width: 1600, height: 1200 } : { width: 8000, height: 6000 },
    hosts: {
      connections: positive(values.connections, 64, 'connections'),
      submitSeconds: positive(values['hosts-seconds'], smoke ? 1 : 10, 'hosts-seconds'),
      streamUploads: smoke ? 4 : 48,
      streamConcurrency: 4,
      streamMiB: 10,
      jobs: smoke ? 4 : 24,
      jobConcurrency: 8,
      photo: smoke ? { width: 640, height: 480 } : { width: 1600, height: 1200 },
    },
  };
}

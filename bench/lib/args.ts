import { parseArgs } from 'node:util';
import { numberList } from './script';

export interface Options {
  /** File sizes in MiB. */
  sizes: number[];
  runs: number;
  /** UPLOAD_CHUNK_SIZE values for the stream-router sweep (one router each). */
  chunkSizes: number[];
  /** Contender labels to keep (undefined: all). */
  contenders?: string[];
  smoke: boolean;
  /** Wait for each accepted job to finish before the next upload (outside the timing). */
  settle: boolean;
  /** Sample VmRSS every 5 ms even where clear_refs works (to check the fallback). */
  forceSampling: boolean;
}

export const USAGE = `usage: node_modules/.bin/tsx bench/transfer.ts [options]

Upload time (curl, until the HTTP 202) and peak memory growth of router and processor,
legacy (store-and-forward) vs stream routers vs a one-hop floor straight to the processor.

  --sizes 1,10,50              file sizes in MiB (default 1,10,50)
  --runs 5                     measured rounds after one warm-up per contender and size (default 5)
  --chunk-sizes 65536,262144,1048576
                               one extra stream router per UPLOAD_CHUNK_SIZE, labelled stream-64k etc.
                               (default 65536,262144,1048576; "" for none)
  --contenders a,b,...         keep only these labels, in this base order: floor, legacy, stream,
                               stream-<chunk> (default all, in that order)
  --no-settle                  do not wait for each job to finish before the next upload
  --force-sampling             measure peak memory by sampling VmRSS every 5 ms even where clear_refs works
  --smoke                      quick check for CI: --sizes 1 --runs 1 --chunk-sizes "" (explicit flags win)
  --help`;

export function parseOptions(argv: string[]): Options | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      sizes: { type: 'string' },
      runs: { type: 'string' },
      'chunk-sizes': { type: 'string' },
      contenders: { type: 'string' },
      'no-settle': { type: 'boolean', default: false },
      smoke: { type: 'boolean', default: false },
      'force-sampling': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) return 'help';
  const smoke = values.smoke ?? false;
  const sizes = numberList(values.sizes ?? (smoke ? '1' : '1,10,50'), 'sizes', (n) => n > 0 && n <= 1024);
  if (sizes.length === 0) throw new Error('--sizes: at least one size');
  const runs = numberList(values.runs ?? (smoke ? '1' : '5'), 'runs', (n) => Number.isInteger(n) && n >= 1)[0];
  if (runs === undefined) throw new Error('--runs: give a number');
  const chunkSizes = numberList(
    values['chunk-sizes'] ?? (smoke ? '' : '65536,262144,1048576'),
    'chunk-sizes',
    // the router's own bounds for UPLOAD_CHUNK_SIZE
    (n) => Number.isInteger(n) && n >= 1024 && n <= 4 * 1024 * 1024 - 1024,
  );
  const contenders = values.contenders
    ?.split(',')
    .map((c) => c.trim())
    .filter(Boolean);
  return { sizes, runs, chunkSizes, contenders, smoke, settle: !values['no-settle'], forceSampling: values['force-sampling'] ?? false };
}

/** stream-64k, stream-1m, or stream-<bytes> when not a whole KiB/MiB. */
export function chunkLabel(bytes: number): string {
  if (bytes % (1024 * 1024) === 0) return `stream-${bytes / (1024 * 1024)}m`;
  if (bytes % 1024 === 0) return `stream-${bytes / 1024}k`;
  return `stream-${bytes}`;
}

import { FlagValues, commandLine, count, nameList, numberList, roundsFlag, sizesFlag, sizesMiB } from './cli';

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

/** bench/transfer.ts's command line. */
export const TRANSFER_CLI = commandLine({
  script: 'bench/transfer.ts',
  about: `Upload time (curl, until the HTTP 202) and peak memory growth of router and processor,
legacy (store-and-forward) vs stream routers vs a one-hop floor straight to the processor.`,
  flags: {
    sizes: sizesFlag('1,10,50'),
    runs: roundsFlag(5),
    'chunk-sizes': {
      kind: 'value',
      sample: '65536,262144,1048576',
      help: 'one extra stream router per UPLOAD_CHUNK_SIZE, labelled stream-64k etc.\n(default 65536,262144,1048576; "" for none)',
    },
    contenders: { kind: 'value', sample: 'a,b,...', help: 'keep only these labels, in this base order: floor, legacy, stream,\nstream-<chunk> (default all, in that order)' },
    'no-settle': { kind: 'switch', help: 'do not wait for each job to finish before the next upload' },
    'force-sampling': { kind: 'switch', help: 'measure peak memory by sampling VmRSS every 5 ms even where clear_refs works' },
    smoke: { kind: 'switch', help: 'quick check for CI: --sizes 1 --runs 1 --chunk-sizes "" (explicit flags win)' },
  },
});

export function transferOptions(flags: FlagValues<typeof TRANSFER_CLI.flags>): Options {
  const smoke = flags.smoke;
  const chunkSizes = numberList(
    flags['chunk-sizes'] ?? (smoke ? '' : '65536,262144,1048576'),
    'chunk-sizes',
    // the router's own bounds for UPLOAD_CHUNK_SIZE
    (n) => Number.isInteger(n) && n >= 1024 && n <= 4 * 1024 * 1024 - 1024,
  );
  return {
    sizes: sizesMiB(flags.sizes ?? (smoke ? '1' : '1,10,50'), 'sizes'),
    runs: count(flags.runs, smoke ? 1 : 5, 'runs'),
    chunkSizes,
    contenders: flags.contenders === undefined ? undefined : nameList(flags.contenders),
    smoke,
    settle: !flags['no-settle'],
    forceSampling: flags['force-sampling'],
  };
}

/** stream-64k, stream-1m, or stream-<bytes> when not a whole KiB/MiB. */
export function chunkLabel(bytes: number): string {
  if (bytes % (1024 * 1024) === 0) return `stream-${bytes / (1024 * 1024)}m`;
  if (bytes % 1024 === 0) return `stream-${bytes / 1024}k`;
  return `stream-${bytes}`;
}

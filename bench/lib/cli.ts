import { parseArgs } from 'node:util';

/**
 * The command lines of the benchmark scripts: each declares its flags once, as data, and gets
 * from here the parsing (node:util parseArgs, strict: an unknown flag or a positional argument
 * is an error), the usage that `--help` prints (generated from the same declarations, so it
 * lists every flag) and readers for the values that several scripts share.
 */

export interface Flag {
  /** `switch`: present or not; `value`: takes the next argument. */
  kind: 'switch' | 'value';
  /** How a value looks in the usage, e.g. "1,10,50" (usually the default). */
  sample?: string;
  /** What the flag does; "\n" continues on a new line of the usage. */
  help: string;
}

export type Flags = Readonly<Record<string, Flag>>;

/** Parsed flags: true / false for a switch, the raw text (or undefined when not given) for a value. */
export type FlagValues<F extends Flags> = { readonly [K in keyof F]: F[K]['kind'] extends 'switch' ? boolean : string | undefined };

export interface CommandLine<F extends Flags> {
  /** The script, from the repository root, e.g. "bench/run-all.ts". */
  script: string;
  /** What the script does: the usage's paragraph under the command line. */
  about: string;
  flags: F;
}

/** A command line, with the flag kinds kept as literals (so that FlagValues knows switches from values). */
export function commandLine<const F extends Flags>(cli: CommandLine<F>): CommandLine<F> {
  if ('help' in cli.flags) throw new Error(`${cli.script}: --help is every script's own`);
  return cli;
}

const HELP: Flag = { kind: 'switch', help: 'print this text' };

type ValueFlag = Flag & { kind: 'value' };

/** `--sizes`, the test files' sizes in MiB, with the script's default list (read it with sizesMiB). */
export function sizesFlag(defaults: string): ValueFlag {
  return { kind: 'value', sample: defaults, help: `file sizes in MiB (default ${defaults})` };
}

/** `--runs`, measured rounds in the transfer scripts' scheme (read it with count). */
export function roundsFlag(defaults: number): ValueFlag {
  return { kind: 'value', sample: String(defaults), help: `measured rounds after one warm-up per contender and size (default ${defaults})` };
}
/** Flag texts longer than this put their help on the next line. */
const WIDEST = 28;

/** The usage: the command line, what the script does, then one entry per flag with its help. */
export function usage<F extends Flags>(cli: CommandLine<F>): string {
  const entries = [...Object.entries(cli.flags), ['help', HELP] as const].map(([name, flag]) => ({
    text: `--${name}${flag.sample === undefined ? '' : ` ${flag.sample}`}`,
    help: flag.help.split('\n'),
  }));
  const width = Math.max(...entries.map((e) => e.text.length).filter((n) => n <= WIDEST));
  const indent = ' '.repeat(2 + width + 2);
  const lines = entries.flatMap(({ text, help: [first, ...rest] }) => [
    ...(text.length > width ? [`  ${text}`, `${indent}${first}`] : [`  ${text.padEnd(width)}  ${first}`]),
    ...rest.map((line) => `${indent}${line}`),
  ]);
  return [`usage: node_modules/.bin/tsx ${cli.script} [options]`, '', cli.about, '', ...lines].join('\n');
}

/** The flags of `argv`, or 'help' for --help. Throws on an unknown flag, a positional argument or a missing value. */
export function readFlags<F extends Flags>(cli: CommandLine<F>, argv: readonly string[]): FlagValues<F> | 'help' {
  const options = Object.fromEntries(Object.entries({ ...cli.flags, help: HELP }).map(([name, flag]) => [name, { type: flag.kind === 'switch' ? ('boolean' as const) : ('string' as const) }]));
  const { values } = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false });
  if (values.help === true) return 'help';
  const read = (name: string, flag: Flag) => (flag.kind === 'switch' ? values[name] === true : (values[name] as string | undefined));
  return Object.fromEntries(Object.entries(cli.flags).map(([name, flag]) => [name, read(name, flag)])) as FlagValues<F>;
}

/** How the script was run, for the records: "node_modules/.bin/tsx bench/net.ts --runs 3". */
export function commandOf<F extends Flags>(cli: CommandLine<F>, argv: readonly string[] = process.argv.slice(2)): string {
  return `node_modules/.bin/tsx ${cli.script} ${argv.join(' ')}`.trim();
}

/** A comma-separated list of numbers, each checked by `valid`; "" is an empty list. */
export function numberList(raw: string, name: string, valid: (n: number) => boolean): number[] {
  if (raw.trim() === '') return [];
  return raw.split(',').map((part) => {
    const value = Number(part.trim());
    if (part.trim() === '' || !Number.isFinite(value) || !valid(value)) throw new Error(`--${name}: bad value "${part}"`);
    return value;
  });
}

/** File sizes in MiB: at least one, each in (0, 1024]. */
export function sizesMiB(raw: string, name: string): number[] {
  const values = numberList(raw, name, (n) => n > 0 && n <= 1024);
  if (values.length === 0) throw new Error(`--${name}: at least one value`);
  return values;
}

/** A number above 0; `fallback` when the flag was not given. */
export function positive(raw: string | undefined, fallback: number, name: string): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n) || n <= 0) throw new Error(`--${name}: bad value "${raw}"`);
  return n;
}

/** A whole number of at least 1 (runs, rounds); `fallback` when the flag was not given. */
export function count(raw: string | undefined, fallback: number, name: string): number {
  const n = positive(raw, fallback, name);
  if (!Number.isInteger(n)) throw new Error(`--${name}: a whole number, not "${raw}"`);
  return n;
}

/** A comma-separated list of names, blanks dropped. */
export function nameList(raw: string): string[] {
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

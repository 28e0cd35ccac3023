/**
 * `make bench-net`: the transfer table (floor, legacy, stream, s3, direct, tus) over links limited
 * to 100 Mbit/s, between network namespaces this script creates and always removes (see
 * bench/lib/netns.ts). Needs root and a kernel that allows network namespaces, veth pairs,
 * bridges and tc tbf; otherwise prints "skipped: <reason>" and exits 0. Writes
 * bench/results/net.json and prints the table. `make bench` runs the same section and puts
 * it into docs/benchmarks.md.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { transferTable, verdictTable } from './lib/docs-tables';
import { machineInfo, machineLine } from './lib/machine';
import { runNet } from './lib/net-run';
import { teardownAll } from './lib/netns';
import { BenchScript, numberList } from './lib/script';
import { REPO_ROOT } from './lib/stack';
import { tusVsDirect } from './lib/verdicts';

const USAGE = `usage: node_modules/.bin/tsx bench/net.ts [--sizes 1,10,50] [--runs 5] [--rate 100]`;

const script = new BenchScript('bench-net', teardownAll);
const { services, log, check } = script;

interface NetOptions {
  sizes: number[];
  runs: number;
  rateMbit: number;
}

function parseOptions(argv: string[]): NetOptions | 'help' {
  const { values } = parseArgs({ args: argv, options: { sizes: { type: 'string' }, runs: { type: 'string' }, rate: { type: 'string' }, help: { type: 'boolean' } }, strict: true });
  if (values.help) return 'help';
  const positive = (n: number) => n > 0 && n <= 1024;
  const [runs] = numberList(values.runs ?? '5', 'runs', (n) => Number.isInteger(n) && positive(n));
  const [rateMbit] = numberList(values.rate ?? '100', 'rate', positive);
  return { sizes: numberList(values.sizes ?? '1,10,50', 'sizes', positive), runs, rateMbit };
}

async function run({ sizes, runs, rateMbit }: NetOptions): Promise<void> {
  const started = performance.now();
  const machine = await machineInfo();
  const tempDir = script.tempDir('artorizer-bench-net-');
  const result = await runNet({ sizes, runs, rateMbit, tempDir, services, log, check });
  if ('skipped' in result) {
    process.stdout.write(`skipped: ${result.skipped}\n`);
    return;
  }
  machine.loadavgAtEnd = os.loadavg();
  const command = `node_modules/.bin/tsx bench/net.ts ${process.argv.slice(2).join(' ')}`.trim();
  const record = {
    benchmark: 'net',
    command,
    durationSec: (performance.now() - started) / 1000,
    machine,
    net: result,
    serviceLogs: services.map((s) => ({ label: `${s.label} (pid ${s.pid})`, lines: s.logLines })),
  };
  const file = path.join(__dirname, 'results', 'net.json');
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(record, null, 1) + '\n');
  process.stdout.write(
    [
      `## Constrained links: ${rateMbit} Mbit/s per link (${machine.date})`,
      '',
      `\`${command}\` — ${machineLine(machine)}; ${result.description}; ${runs} measured runs after a warm-up; median (min–max).`,
      '',
      ...transferTable(result.rows, true),
      ...verdictTable([tusVsDirect(`over ${rateMbit} Mbit/s links (constrained)`, result.rows)], 'project target'),
      `Raw samples: ${path.relative(REPO_ROOT, file)}`,
      '',
    ].join('\n'),
  );
}

script.main(USAGE, parseOptions, run);

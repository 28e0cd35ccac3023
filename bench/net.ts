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
import { FlagValues, commandLine, commandOf, count, positive, roundsFlag, sizesFlag, sizesMiB } from './lib/cli';
import { transferTable, verdictTable } from './lib/docs-tables';
import { machineInfo, machineLine } from './lib/machine';
import { runNet } from './lib/net-run';
import { teardownAll } from './lib/netns';
import { BenchScript } from './lib/script';
import { REPO_ROOT } from './lib/stack';
import { tusVsDirect } from './lib/verdicts';

/** bench/net.ts's command line (`make bench-net`). */
const NET_CLI = commandLine({
  script: 'bench/net.ts',
  about: `The transfer table over links limited to --rate Mbit/s, between network namespaces made and
removed here (needs root; otherwise prints "skipped: <reason>" and exits 0). Writes
bench/results/net.json and prints the table.`,
  flags: {
    sizes: sizesFlag('1,10,50'),
    runs: roundsFlag(5),
    rate: { kind: 'value', sample: '100', help: 'Mbit/s per link (default 100)' },
  },
});

const script = new BenchScript('bench-net', teardownAll);
const { services, log, check } = script;

interface NetOptions {
  sizes: number[];
  runs: number;
  rateMbit: number;
}

function netOptions(flags: FlagValues<typeof NET_CLI.flags>): NetOptions {
  return { sizes: sizesMiB(flags.sizes ?? '1,10,50', 'sizes'), runs: count(flags.runs, 5, 'runs'), rateMbit: positive(flags.rate, 100, 'rate') };
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
  const command = commandOf(NET_CLI);
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

script.main(NET_CLI, netOptions, run);

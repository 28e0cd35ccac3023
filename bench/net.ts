/**
 * `make bench-net`: the transfer table (floor, legacy, stream, s3, direct) over links limited
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
import { transferTable } from './lib/docs';
import { machineInfo, machineLine } from './lib/machine';
import { runNet } from './lib/net-run';
import { teardownAll } from './lib/netns';
import { REPO_ROOT, Service } from './lib/stack';

const USAGE = `usage: node_modules/.bin/tsx bench/net.ts [--sizes 1,10,50] [--runs 5] [--rate 100]`;

const services: Service[] = [];
let interrupted = false;
let tempDir: string | undefined;

function log(message: string): void {
  process.stderr.write(`[bench-net ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

function removeTemp(): void {
  if (tempDir) fs.rmSync(tempDir, { recursive: true, force: true });
  tempDir = undefined;
}

function numbers(raw: string, name: string): number[] {
  return raw.split(',').map((p) => {
    const n = Number(p.trim());
    if (!Number.isFinite(n) || n <= 0 || n > 1024) throw new Error(`--${name}: bad value "${p}"`);
    return n;
  });
}

async function main(): Promise<number> {
  let sizes: number[];
  let runs: number;
  let rateMbit: number;
  try {
    const { values } = parseArgs({ args: process.argv.slice(2), options: { sizes: { type: 'string' }, runs: { type: 'string' }, rate: { type: 'string' }, help: { type: 'boolean' } }, strict: true });
    if (values.help) {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    sizes = numbers(values.sizes ?? '1,10,50', 'sizes');
    [runs] = numbers(values.runs ?? '5', 'runs');
    if (!Number.isInteger(runs)) throw new Error('--runs: an integer');
    [rateMbit] = numbers(values.rate ?? '100', 'rate');
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${USAGE}\n`);
    return 2;
  }
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      interrupted = true;
      log(`${signal}: stopping services, removing namespaces and temp files`);
      void Promise.all(services.map((s) => s.stop())).finally(() => {
        teardownAll();
        removeTemp();
        process.exit(130);
      });
    });
  }
  process.once('exit', () => {
    for (const s of services) s.killNow();
    teardownAll();
    removeTemp();
  });

  const started = performance.now();
  const machine = await machineInfo();
  tempDir = fs.mkdtempSync(path.join(os.tmpdir(), 'artorizer-bench-net-'));
  try {
    const result = await runNet({
      sizes,
      runs,
      rateMbit,
      tempDir,
      services,
      log,
      check: () => {
        if (interrupted) throw new Error('interrupted');
      },
    });
    if ('skipped' in result) {
      process.stdout.write(`skipped: ${result.skipped}\n`);
      return 0;
    }
    machine.loadavgAtEnd = os.loadavg();
    const command = `node_modules/.bin/tsx bench/net.ts ${process.argv.slice(2).join(' ')}`.trim();
    const record = { benchmark: 'net', command, durationSec: (performance.now() - started) / 1000, machine, net: result, serviceLogs: services.map((s) => ({ label: `${s.label} (pid ${s.pid})`, lines: s.logLines })) };
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
        `Raw samples: ${path.relative(REPO_ROOT, file)}`,
        '',
      ].join('\n'),
    );
    return 0;
  } catch (err) {
    if (!interrupted) log(`failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    return 1;
  } finally {
    await Promise.all(services.map((s) => s.stop()));
    teardownAll();
    removeTemp();
  }
}

main().then((code) => process.exit(interrupted ? 130 : code));

/**
 * What the router's hop costs, against what a hop can cost: the processor's HTTP API alone
 * (`floor`), a Node process piping the body unparsed to that API (`passthrough`,
 * bench/lib/passthrough-relay.ts), nginx doing the same (`nginx`, where installed), and a
 * stream-mode router (`stream`: busboy, then a gRPC SubmitJob). Same stack, clients, rounds
 * and measurements as `make bench`'s transfer section:
 *
 *   node_modules/.bin/tsx bench/tools/relay-cost.ts --sizes 1,10,50 --runs 7
 *
 * It answers "is it Node, or what the router does in Node?": if the pass-through is near
 * nginx while the stream router is not, the gap is in the parsing and the gRPC re-framing,
 * not in having a second Node process on the path.
 */
import os from 'node:os';
import { commandLine, commandOf, count, roundsFlag, sizesFlag, sizesMiB } from '../lib/cli';
import { writeTestFiles } from '../lib/files';
import { codeState, describeCode, machineInfo, machineLine } from '../lib/machine';
import { nginxUnavailable } from '../lib/nginx';
import { primeFor, roundsBySize } from '../lib/rounds';
import { BenchScript } from '../lib/script';
import { fixed, ratio, spread } from '../lib/stats';
import { LOOPBACK } from '../lib/topology';
import { ContenderPlan, startTransferStack } from '../lib/transfer-stack';
import { transferRows } from '../lib/transfer-summary';

const RELAY_COST_CLI = commandLine({
  script: 'bench/tools/relay-cost.ts',
  about: 'Time to the 202 and CPU per MiB of the relay: floor, a Node pass-through, nginx and a stream-mode router, side by side.',
  flags: {
    sizes: sizesFlag('1,10,50'),
    runs: roundsFlag(7),
  },
});

const SECTION = 'relay-cost';
const loads = (l: readonly number[]) => l.map((x) => x.toFixed(2)).join(' ');
const script = new BenchScript(SECTION);
const { services, log, check } = script;

async function run(options: { sizes: number[]; runs: number }, command: string): Promise<void> {
  const meta = await machineInfo();
  const plans: ContenderPlan[] = [
    { label: 'floor', kind: 'floor' },
    { label: 'passthrough', kind: 'passthrough' },
    ...(nginxUnavailable() === undefined ? [{ label: 'nginx', kind: 'nginx' as const }] : []),
    { label: 'stream', kind: 'stream' },
  ];
  const tempDir = script.tempDir('artorizer-relay-cost-');
  const { files, maxBytes } = writeTestFiles(tempDir, options.sizes);
  const stack = await startTransferStack({ topology: LOOPBACK, plans, tempDir, maxBytes, services, log });
  const samples = await roundsBySize(stack, { section: SECTION, sizes: options.sizes, contenders: stack.contenders, runs: options.runs, files, log, check, prime: primeFor(options.sizes) });
  const rows = transferRows(samples, SECTION);
  const lines = [`\`${command}\``, '', `${machineLine(meta)}; ${describeCode(codeState())}; load average at start ${loads(meta.loadavgAtStart)}, at end ${loads(os.loadavg())}`];
  for (const size of options.sizes) {
    const atSize = rows.filter((x) => x.sizeMiB === size);
    const passthrough = atSize.find((r) => r.kind === 'passthrough');
    lines.push(
      '',
      `### ${size} MiB, n = ${options.runs}`,
      '',
      '| contender | time to 202 ms, median (min–max) | × floor | × passthrough | relay CPU ms per MiB | processor CPU ms |',
      '|---|---|---|---|---|---|',
    );
    for (const r of atSize) {
      const relayCpu = r.kind === 'floor' ? '–' : fixed(r.routerCpuMsPerMiB.median, 1);
      lines.push(
        `| ${r.contender} | ${spread(r.timeMs, 1)} | ${ratio(r.vsFloor, 1)} | ${ratio(r.timeMs.median, passthrough?.timeMs.median ?? Number.NaN)} | ${relayCpu} | ${fixed(r.processorCpuMs.median, 0)} |`,
      );
    }
  }
  process.stdout.write(lines.join('\n') + '\n');
}

script.main(
  RELAY_COST_CLI,
  (flags) => ({ sizes: sizesMiB(flags.sizes ?? '1,10,50', 'sizes'), runs: count(flags.runs, 7, 'runs') }),
  (options) => run(options, commandOf(RELAY_COST_CLI)),
);

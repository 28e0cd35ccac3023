/**
 * Re-renders docs/benchmarks.md from the raw record of the last full run
 * (bench/results/latest.json), e.g. after a change to its prose (bench/benchmarks.md.tmpl) or
 * to how its tables are laid out (bench/lib/docs-tables.ts):
 *
 *   node_modules/.bin/tsx bench/render.ts
 *
 * Every figure is still computed from that run's samples; nothing is measured here.
 */
import fs from 'node:fs';
import path from 'node:path';
import { commandLine, readFlags, usage } from './lib/cli';
import { renderDocs } from './lib/docs';
import { RunRecord } from './lib/record';
import { REPO_ROOT } from './lib/stack';

const RENDER_CLI = commandLine({
  script: 'bench/render.ts',
  about: 'Re-renders docs/benchmarks.md from bench/results/latest.json; measures nothing.',
  flags: {},
});

try {
  if (readFlags(RENDER_CLI, process.argv.slice(2)) === 'help') {
    process.stdout.write(`${usage(RENDER_CLI)}\n`);
    process.exit(0);
  }
} catch (err) {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n${usage(RENDER_CLI)}\n`);
  process.exit(2);
}

const source = path.join(REPO_ROOT, 'bench/results/latest.json');
if (!fs.existsSync(source)) {
  process.stderr.write(`no ${path.relative(REPO_ROOT, source)}: run make bench first\n`);
  process.exit(1);
}
const record = JSON.parse(fs.readFileSync(source, 'utf8')) as RunRecord;
fs.writeFileSync(path.join(REPO_ROOT, 'docs/benchmarks.md'), renderDocs(record));
process.stderr.write(`wrote docs/benchmarks.md from ${path.relative(REPO_ROOT, source)} (run started ${record.startedAt})\n`);

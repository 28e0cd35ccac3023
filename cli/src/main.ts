import fs from 'node:fs';
import path from 'node:path';
import { CommanderError } from 'commander';
import { buildProgram, Runtime, usageExitCode } from './commands';
import { asCliError } from './errors';
import { EXIT, ExitCode } from './exit-codes';
import { errorData } from './output';

function version(): string {
  try {
    return (JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/** Runs the CLI on `argv` (as process.argv: node and the script first); its exit code. */
export async function main(argv: string[], runtime: Runtime = { submitted: [] }): Promise<ExitCode> {
  let code: ExitCode = EXIT.ok;
  const program = buildProgram(runtime, (c) => (code = c), version());
  try {
    await program.parseAsync(argv);
    return code;
  } catch (err) {
    runtime.display?.stop();
    if (err instanceof CommanderError) return usageExitCode(err);
    const opts = program.opts<{ router?: string; json?: boolean }>();
    const error = asCliError(err, opts.router ?? '');
    if (opts.json) process.stdout.write(`${JSON.stringify({ status: 'error', error: errorData(error) })}\n`);
    process.stderr.write(`${error.message}\n`);
    return error.exitCode;
  }
}

/** The bin's entry: runs, then exits with the code once stdout has drained; Ctrl-C leaves the terminal clean (130). */
export function run(): void {
  const runtime: Runtime = { submitted: [] };
  process.once('SIGINT', () => {
    runtime.display?.stop();
    const jobs = runtime.submitted.map((s) => `  ${s.file}  job ${s.jobId}\n`).join('');
    process.stderr.write(
      `\ninterrupted. ${jobs ? `Jobs submitted go on (artorizer watch ID follows one):\n${jobs}` : ''}` +
        'An unfinished resumable upload goes on from where it stopped when the same command runs again.\n',
    );
    process.exit(130);
  });
  main(process.argv, runtime).then(
    (code) => process.stdout.write('', () => process.exit(code)),
    (err: unknown) => {
      process.stderr.write(`artorizer: ${err instanceof Error ? err.stack : String(err)}\n`);
      process.exit(EXIT.unavailable);
    },
  );
}

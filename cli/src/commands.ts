import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { EXIT, EXIT_CODES_HELP, ExitCode } from './exit-codes';
import { SubmitOptions, commaList } from './fields';
import { Connection, connection } from './http';
import { cancelCommand, downloadCommand, statusCommand, watchCommand } from './jobs';
import { createOutput } from './output';
import { Display, createDisplay } from './progress';
import { protectFiles } from './protect';

export const DEFAULT_ROUTER = 'http://127.0.0.1:7000';

/** The options every command takes. */
interface GlobalOptions {
  router: string;
  apiKey?: string;
  json?: boolean;
  progress: boolean;
}

interface ProtectCliOptions extends GlobalOptions, SubmitOptions {
  artist: string;
  concurrency: number;
  wait?: boolean;
  out?: string;
}

/** What running a command needs from outside: where the display goes when the CLI is interrupted. */
export interface Runtime {
  /** The display of the running command, stopped on Ctrl-C so the terminal is left clean. */
  display?: Display;
  /** The jobs submitted so far, told on Ctrl-C so that they can be followed. */
  submitted: { file: string; jobId: string }[];
}

function routerUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidArgumentError(`"${value}" is not a URL (like ${DEFAULT_ROUTER})`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new InvalidArgumentError(`"${value}" is not an http(s) URL`);
  return value.replace(/\/+$/, '');
}

function positiveInt(max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || n < 1 || n > max) throw new InvalidArgumentError(`must be a whole number from 1 to ${max}`);
    return n;
  };
}

function list(value: string): string[] {
  return commaList(value);
}

function nonEmpty(what: string) {
  return (value: string): string => {
    if (value.trim() === '') throw new InvalidArgumentError(`${what} must not be empty`);
    return value;
  };
}

const HELP_AFTER = `
Environment:
  ARTORIZER_URL      the router's URL, when --router is not given (default ${DEFAULT_ROUTER})
  ARTORIZER_API_KEY  the API key, when --api-key is not given
  ARTORIZER_ARTIST   the artist's name, when --artist is not given

${EXIT_CODES_HELP}

Examples:
  artorizer protect art.png --artist "Jane Doe" --tags forest,moody --out protected/
  artorizer protect *.jpg --artist "Jane Doe" --layers mist,nightshade --wait --json
  artorizer status 6f1c2f4e-…        artorizer watch 6f1c2f4e-…
  artorizer download 6f1c2f4e-… protected -o art.protected.png
  artorizer cancel 6f1c2f4e-…`;

/** The `artorizer` program: its commands and options, each command's exit code handed to `done`. */
export function buildProgram(runtime: Runtime, done: (code: ExitCode) => void, version: string): Command {
  const program = new Command('artorizer');
  // errors throw (CommanderError) instead of exiting, so that usage errors exit with 2
  program.exitOverride();
  program
    .description('Artorizer command-line client: protect images through an Artorizer router, follow the jobs, fetch the results.')
    .version(version, '-V, --version')
    .addOption(new Option('--router <url>', "the router's base URL").env('ARTORIZER_URL').default(DEFAULT_ROUTER).argParser(routerUrl))
    .addOption(new Option('--api-key <key>', 'API key, sent as Authorization: Bearer (when the router wants one)').env('ARTORIZER_API_KEY'))
    .option('--json', 'machine-readable output: one JSON object per file or command on stdout, no bars')
    .option('--no-progress', 'no progress bars (there are none anyway when stderr is not a terminal)')
    .showHelpAfterError('(artorizer --help lists the commands and options)')
    .configureHelp({ showGlobalOptions: true })
    .addHelpText('after', HELP_AFTER);

  const conn = (cmd: Command): { conn: Connection; opts: GlobalOptions } => {
    const opts = cmd.optsWithGlobals<GlobalOptions>();
    return { conn: connection(opts.router, opts.apiKey), opts };
  };

  program
    .command('protect')
    .summary('upload images and submit them for protection')
    .description(
      'Uploads each FILE (resumable, with tus, when the router offers it; else one multipart request) and submits it as a job. ' +
        'With --wait, follows each job to its end; with --out, also saves <name>.protected.<ext> and <name>.analysis.json into DIR (overwriting). ' +
        'A progress bar per file shows the upload, then the processing (on a terminal).',
    )
    .argument('<files...>', 'image files (JPEG, PNG, GIF, WebP, TIFF, AVIF, HEIF)')
    .addOption(new Option('--artist <name>', "the artist's name (required)").env('ARTORIZER_ARTIST').argParser(nonEmpty('--artist')).makeOptionMandatory())
    .option('--title <title>', "the artwork's title (default: the file name without its extension)")
    .option('--description <text>', "the artwork's description")
    .option('--tags <list>', 'tags, comma-separated: forest,moody', list)
    .option('--watermark <text>', 'the watermark text')
    .option('--watermark-strategy <name>', 'invisible-watermark (the default), tree-ring or none')
    .option(
      '--layers <list>',
      "turn exactly these protection layers on and the others off, comma-separated, from: fawkes, photoguard, mist, nightshade, stegano-embed, c2pa-manifest; or none (default: the router's choice)",
      list,
    )
    .option('--processors <list>', "analysis processors to run, comma-separated, from: metadata, imagehash, dhash, blockhash, stegano, tineye (default: the router's choice)", list)
    .option('--concurrency <n>', 'files uploaded and followed at once', positiveInt(16), 3)
    .option('--wait', 'wait for each job to end (exit 1 if one fails or is cancelled)')
    .option('--out <dir>', 'save the protected image and the analysis of each job into DIR (implies --wait)')
    .action(async (files: string[], _opts: unknown, cmd: Command) => {
      const { conn: c } = conn(cmd);
      const opts = cmd.optsWithGlobals<ProtectCliOptions>();
      const display = createDisplay(
        { json: Boolean(opts.json), progress: opts.progress },
        files.map((f) => f.split(/[\\/]/).pop() ?? f),
      );
      runtime.display = display;
      try {
        done(
          await protectFiles(
            c,
            files,
            {
              artist: opts.artist,
              title: opts.title,
              description: opts.description,
              tags: opts.tags,
              watermark: opts.watermark,
              watermarkStrategy: opts.watermarkStrategy,
              layers: opts.layers,
              processors: opts.processors,
              concurrency: opts.concurrency,
              wait: Boolean(opts.wait || opts.out),
              out: opts.out,
              onSubmitted: (file, jobId) => runtime.submitted.push({ file, jobId }),
            },
            display,
            createOutput(Boolean(opts.json)),
          ),
        );
      } finally {
        display.stop();
      }
    });

  program
    .command('status')
    .summary("print a job's status")
    .description("Prints the job's status once (exit 0 while it is queued, processing or completed; 1 if it failed or was cancelled).")
    .argument('<id>', 'the job id')
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      const { conn: c, opts } = conn(cmd);
      done(await statusCommand(c, id, createOutput(Boolean(opts.json))));
    });

  program
    .command('watch')
    .summary('follow a job to its end')
    .description("Follows the job's progress events until it ends (a bar on a terminal); exit 0 when it completed, 1 when it failed or was cancelled.")
    .argument('<id>', 'the job id')
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      const { conn: c, opts } = conn(cmd);
      const display = createDisplay({ json: Boolean(opts.json), progress: opts.progress }, [`job ${id.slice(0, 8)}`]);
      runtime.display = display;
      done(await watchCommand(c, id, createOutput(Boolean(opts.json)), display));
    });

  program
    .command('download')
    .summary("save one of a completed job's files")
    .description("Saves a completed job's VARIANT: original, protected or analysis (or another the job's result lists). Without -o, into the current folder under the router's name for it.")
    .argument('<id>', 'the job id')
    .argument('<variant>', 'original | protected | analysis')
    .option('-o, --output <path>', 'a file, a folder (existing, or ending in /), or - for stdout')
    .action(async (id: string, variant: string, opts: { output?: string }, cmd: Command) => {
      const { conn: c, opts: global } = conn(cmd);
      done(await downloadCommand(c, id, variant, opts.output, createOutput(Boolean(global.json))));
    });

  program
    .command('cancel')
    .summary('cancel a job')
    .description('Cancels a job that has not ended; exit 0 once it is cancelled, 3 if it had already ended or is unknown.')
    .argument('<id>', 'the job id')
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      const { conn: c, opts } = conn(cmd);
      done(await cancelCommand(c, id, createOutput(Boolean(opts.json))));
    });

  for (const command of program.commands) command.addHelpText('after', `\n${EXIT_CODES_HELP}`);
  return program;
}

/** A commander error's exit code: 0 for --help and --version, 2 for every usage error. */
export function usageExitCode(err: CommanderError): ExitCode {
  return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
}

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CommandLine, FlagValues, Flags, readFlags, usage } from './cli';
import { Service } from './stack';

/**
 * What every benchmark script (run-all, transfer, net, s3-sweep) needs around its run: the
 * services it starts, one temp dir, a log on stderr, and a cleanup that runs once on success,
 * failure, Ctrl-C or SIGTERM (exit 130), with a SIGKILL of whatever still runs as a last resort.
 */
export class BenchScript {
  private readonly groups: Service[][] = [[]];
  /** The script's services; sections that stop theirs early take a `group()` of their own. */
  readonly services: Service[] = this.groups[0];
  interrupted = false;
  private temp?: string;
  private cleaning?: Promise<void>;
  private readonly undos: (() => Promise<unknown>)[] = [];

  /** `teardown`: more to undo than services and the temp dir (e.g. network namespaces); synchronous, idempotent. */
  constructor(
    private readonly name: string,
    private readonly teardown: () => void = () => undefined,
  ) {}

  readonly log = (message: string): void => {
    process.stderr.write(`[${this.name} ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
  };

  /** Throws once the script has been interrupted, so long loops stop between steps. */
  readonly check = (): void => {
    if (this.interrupted) throw new Error('interrupted');
  };

  /** A service list of its own, for a part of the run that stops its services when done; all are stopped at the end. */
  group(): Service[] {
    const list: Service[] = [];
    this.groups.push(list);
    return list;
  }

  /** Every service the run started, in every group. */
  allServices(): Service[] {
    return this.groups.flat();
  }

  /** A fresh temp dir, removed with everything else at the end. */
  tempDir(prefix: string): string {
    this.temp = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    return this.temp;
  }

  private removeTemp(): void {
    if (this.temp) fs.rmSync(this.temp, { recursive: true, force: true });
    this.temp = undefined;
  }

  /**
   * Something to undo once the services have stopped, Ctrl-C included (e.g. Redis keys the run
   * wrote), where `teardown` cannot: asynchronous. Each runs once; a failure is logged.
   */
  afterServices(undo: () => Promise<unknown>): void {
    this.undos.push(undo);
  }

  /** Stops every service (SIGTERM to its process group, SIGKILL after 15 s), then the rest; once. */
  cleanup(): Promise<void> {
    this.cleaning ??= Promise.all(this.allServices().map((s) => s.stop())).then(async () => {
      for (const undo of this.undos.splice(0)) await undo().catch((err: unknown) => this.log(`cleanup failed: ${err instanceof Error ? err.message : String(err)}`));
      this.teardown();
      this.removeTemp();
    });
    return this.cleaning;
  }

  /**
   * Reads the command line (`--help`: prints the usage, exit 0; bad flags or values: the
   * message and the usage on stderr, exit 2), turns its flags into the run's options, runs,
   * cleans up and exits.
   */
  main<F extends Flags, O>(cli: CommandLine<F>, options: (flags: FlagValues<F>) => O, run: (options: O) => Promise<void>): void {
    void this.exitCode(cli, options, run).then((code) => process.exit(this.interrupted ? 130 : code));
  }

  private async exitCode<F extends Flags, O>(cli: CommandLine<F>, toOptions: (flags: FlagValues<F>) => O, run: (options: O) => Promise<void>): Promise<number> {
    let options: O;
    try {
      const flags = readFlags(cli, process.argv.slice(2));
      if (flags === 'help') {
        process.stdout.write(`${usage(cli)}\n`);
        return 0;
      }
      options = toOptions(flags);
    } catch (err) {
      process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n${usage(cli)}\n`);
      return 2;
    }
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      // `on`, not `once`: Ctrl-C reaches this process twice (from the terminal and relayed by
      // tsx), and a second signal without a handler would end it in the middle of its clean-up.
      process.on(signal, () => {
        if (this.interrupted) return;
        this.interrupted = true;
        this.log(`${signal}: stopping services and removing what the run made`);
        void this.cleanup().finally(() => process.exit(130));
      });
    }
    process.once('exit', () => {
      for (const s of this.allServices()) s.killNow();
      this.teardown();
      this.removeTemp();
    });
    try {
      await run(options);
      return 0;
    } catch (err) {
      if (!this.interrupted) this.log(`failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      return 1;
    } finally {
      if (!this.interrupted) this.log('stopping services');
      await this.cleanup();
    }
  }
}

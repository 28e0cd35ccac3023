import { ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';

const REPO = path.resolve(__dirname, '../../..');
const MAIN = path.resolve(__dirname, '../../src/main.ts');

export interface LogEntry {
  msg: string;
  [key: string]: unknown;
}

/** The reference processor in a process of its own, as it runs in production (`node --import tsx`). */
export interface ChildProcessor {
  child: ChildProcess;
  pid: number;
  grpcAddress: string;
  httpUrl: string;
  /** Its own folder under WORK_DIR, from its start-up log line. */
  workDir: string;
  /** Every log line so far. */
  logs: LogEntry[];
  exited: Promise<[number | null, NodeJS.Signals | null]>;
  /** SIGTERM, then waits for the exit; resolves with the exit code. */
  stop(): Promise<number | null>;
}

/** Starts a processor on free loopback ports and resolves once it logs that it listens. */
export async function startChildProcessor(env: Record<string, string>): Promise<ChildProcessor> {
  // node itself, not the tsx CLI: the CLI runs the program in a grandchild, which a SIGKILL to it would not reach.
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN], {
    cwd: REPO,
    env: { ...process.env, GRPC_PORT: '0', HTTP_PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', IMAGE_URL_ALLOWLIST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  const logs: LogEntry[] = [];
  const listening = new Promise<LogEntry>((resolve, reject) => {
    readline.createInterface({ input: child.stdout! }).on('line', (line) => {
      let entry: LogEntry;
      try {
        entry = JSON.parse(line) as LogEntry;
      } catch {
        return;
      }
      logs.push(entry);
      if (entry.msg === 'processor listening') resolve(entry);
    });
    void exited.then(([code, signal]) => reject(new Error(`processor exited (${code ?? signal}) before listening: ${stderr}`)));
  });
  const ready = await listening;
  return {
    child,
    pid: child.pid!,
    grpcAddress: `127.0.0.1:${String(ready.grpcPort)}`,
    httpUrl: `http://127.0.0.1:${String(ready.httpPort)}`,
    workDir: String(ready.workDir),
    logs,
    exited,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const [code] = await exited;
      return code;
    },
  };
}

/** Regular files under `dir`, recursively (none when it does not exist). */
export function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.join(entry.parentPath, entry.name));
}

/** Peak resident memory of a live process in bytes (VmHWM), Linux only. */
export function peakMemoryBytes(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = /^VmHWM:\s+(\d+) kB$/m.exec(status);
  if (!kib) throw new Error(`no VmHWM for process ${pid}`);
  return Number(kib[1]) * 1024;
}

/** Polls a condition the test cannot be told about (files removed or written in the background). */
export async function waitFor(condition: () => boolean, timeoutMs = 10_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (condition()) return true;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return condition();
}

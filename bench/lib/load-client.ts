import { ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { LoadJob, LoadResult } from './load-types';
import { REPO_ROOT } from './stack';

const TSX = path.join(REPO_ROOT, 'node_modules', '.bin', 'tsx');

/** The load generator process (bench/lib/load-worker.ts), one job at a time. */
export class LoadGenerator {
  private readonly child: ChildProcess;
  private waiting?: { onStart: () => void; resolve: (r: LoadResult) => void; reject: (e: Error) => void };
  private readonly stderr: string[] = [];
  private nextId = 1;

  constructor() {
    this.child = spawn(TSX, [path.join(__dirname, 'load-worker.ts')], { cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    readline.createInterface({ input: this.child.stdout! }).on('line', (line) => this.onLine(line));
    readline.createInterface({ input: this.child.stderr! }).on('line', (line) => this.stderr.push(line));
    this.child.once('exit', (code, signal) => {
      this.waiting?.reject(new Error(`load generator exited (code ${code}, signal ${signal}): ${this.stderr.slice(-10).join('\n')}`));
      this.waiting = undefined;
    });
  }

  private onLine(line: string): void {
    if (line.startsWith('START ')) this.waiting?.onStart();
    else if (line.startsWith('RESULT ')) {
      const w = this.waiting;
      this.waiting = undefined;
      w?.resolve(JSON.parse(line.slice('RESULT '.length)) as LoadResult);
    }
  }

  /** Runs one job; `onStart` is called when the measured load begins (to open CPU windows). */
  run(job: Omit<LoadJob, 'id'>, onStart: () => void): Promise<LoadResult> {
    if (this.waiting) return Promise.reject(new Error('load generator busy'));
    return new Promise<LoadResult>((resolve, reject) => {
      this.waiting = { onStart, resolve, reject };
      this.child.stdin!.write(`${JSON.stringify({ ...job, id: this.nextId++ })}\n`);
    });
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.stdin!.end();
    const timer = setTimeout(() => this.kill(), 5000);
    await exited;
    clearTimeout(timer);
  }

  kill(): void {
    if (this.child.exitCode !== null || this.child.signalCode !== null || this.child.pid === undefined) return;
    try {
      process.kill(-this.child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const BIN = path.resolve(__dirname, '../bin/artorizer.cjs');

export interface CliRun {
  code: number | null;
  stdout: string;
  /** stdout's bytes (for a download to -). */
  stdoutBytes: Buffer;
  stderr: string;
  /** stdout's lines parsed as JSON (for --json runs). */
  json(): Record<string, unknown>[];
}

/** A folder for one test's files, removed by the caller. */
export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `artorizer-cli-${prefix}-`));
}

/**
 * Runs the real `artorizer` bin as a child process (node, the bin shim, tsx), with the router
 * at `routerUrl` through ARTORIZER_URL, as a script would; resolves when it exits (killed
 * after `timeoutMs`, which fails the test through its exit code).
 */
export function runCli(args: string[], options: { routerUrl: string; cwd?: string; env?: Record<string, string>; timeoutMs?: number; stateDir: string }): Promise<CliRun> {
  const env: NodeJS.ProcessEnv = { ...process.env, ARTORIZER_URL: options.routerUrl, ARTORIZER_STATE_DIR: options.stateDir, ...options.env };
  delete env.ARTORIZER_API_KEY;
  delete env.ARTORIZER_ARTIST;
  if (options.env?.ARTORIZER_API_KEY) env.ARTORIZER_API_KEY = options.env.ARTORIZER_API_KEY;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: options.cwd ?? process.cwd(), env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 90_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const stdoutBytes = Buffer.concat(out);
      const stdout = stdoutBytes.toString('utf8');
      resolve({
        code,
        stdout,
        stdoutBytes,
        stderr,
        json: () =>
          stdout
            .split('\n')
            .filter((l) => l.trim() !== '')
            .map((l) => JSON.parse(l) as Record<string, unknown>),
      });
    });
  });
}

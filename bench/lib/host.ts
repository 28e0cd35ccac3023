import { execFile } from 'node:child_process';

/**
 * Where a command runs: on this machine as it is (`LOCAL`), or inside a network namespace
 * (`ip netns exec <ns>`). `wrap` is the argv prefix put before the command.
 */
export interface Host {
  name: string;
  wrap: readonly string[];
}

export const LOCAL: Host = { name: 'local', wrap: [] };

export function inNamespace(ns: string): Host {
  return { name: ns, wrap: ['ip', 'netns', 'exec', ns] };
}

/** [file, args] of `command args...` run on `host`. */
export function wrapped(host: Host, command: string, args: readonly string[]): [string, string[]] {
  if (host.wrap.length === 0) return [command, [...args]];
  return [host.wrap[0], [...host.wrap.slice(1), command, ...args]];
}

export interface CommandResult {
  stdout: string;
  stderr: string;
}

/** Runs a command on `host`; rejects with its stderr when it exits non-zero. */
export function run(host: Host, command: string, args: readonly string[], maxBuffer = 4 * 1024 * 1024): Promise<CommandResult> {
  const [file, argv] = wrapped(host, command, args);
  return new Promise((resolve, reject) => {
    execFile(file, argv, { maxBuffer }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${[file, ...argv].join(' ')} failed: ${err.message}${stderr ? `\n${stderr.trim()}` : ''}`));
      else resolve({ stdout, stderr });
    });
  });
}

import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { curlVersion } from './client';
import { REPO_ROOT } from './stack';

export interface MachineInfo {
  date: string;
  cpuModel: string;
  cpuCount: number;
  availableParallelism: number;
  totalMemoryBytes: number;
  node: string;
  platform: string;
  curl: string;
  loadavgAtStart: number[];
  loadavgAtEnd?: number[];
  gitCommit: string;
  gitDirty: boolean;
  /** `git status --porcelain` at start: the services run from the working tree, not from the commit. */
  gitStatus: string[];
  /** sha256 of `git diff HEAD` (tracked files): which uncommitted version of the code ran. */
  gitDiffSha256: string;
}

export function git(args: string[]): string {
  try {
    // trimEnd only: porcelain lines start with a status column that may be a space
    return execFileSync('git', args, { cwd: REPO_ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 64 * 1024 * 1024 }).trimEnd();
  } catch {
    return 'unknown';
  }
}

export async function machineInfo(): Promise<MachineInfo> {
  const cpus = os.cpus();
  return {
    date: new Date().toISOString(),
    cpuModel: cpus[0]?.model ?? 'unknown',
    cpuCount: cpus.length,
    availableParallelism: os.availableParallelism(),
    totalMemoryBytes: os.totalmem(),
    node: process.version,
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    curl: await curlVersion(),
    loadavgAtStart: os.loadavg(),
    gitCommit: git(['rev-parse', 'HEAD']),
    gitDirty: git(['status', '--porcelain', '--untracked-files=no']) !== '',
    gitStatus: git(['status', '--porcelain']).split('\n').filter(Boolean),
    gitDiffSha256: createHash('sha256')
      .update(git(['diff', 'HEAD']))
      .digest('hex'),
  };
}

/** One line: CPU, cores, memory, Node, kernel, curl. */
export function machineLine(m: MachineInfo): string {
  return `${m.cpuModel}, ${m.cpuCount} cores, ${(m.totalMemoryBytes / 1024 ** 3).toFixed(1)} GiB RAM, Node ${m.node}, ${m.platform}, ${m.curl}`;
}

/** Which code a section ran: the services load the working tree when they start. */
export interface CodeState {
  commit: string;
  /** Tracked files with uncommitted changes. */
  dirty: string[];
  diffSha256: string;
}

export function codeState(): CodeState {
  return {
    commit: git(['rev-parse', 'HEAD']),
    dirty: git(['status', '--porcelain', '--untracked-files=no'])
      .split('\n')
      .filter(Boolean)
      .map((l) => l.slice(3)),
    diffSha256: createHash('sha256')
      .update(git(['diff', 'HEAD']))
      .digest('hex'),
  };
}

export function describeCode(c: CodeState): string {
  return `commit ${c.commit.slice(0, 12)}${c.dirty.length ? ` plus uncommitted changes in ${c.dirty.join(', ')} (diff sha256 ${c.diffSha256.slice(0, 12)})` : ''}`;
}

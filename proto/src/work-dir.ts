import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * A service's working directory: `WORK_DIR` (mode 0700, owned by this user) holds one
 * directory per running process, named after its pid and start time. At start a process
 * removes the directories of processes that are gone (killed, crashed), so nothing a dead
 * process wrote outlives its next start; live neighbours sharing WORK_DIR are left alone.
 */
export interface WorkDir {
  /** This process's own directory (0700), removed by `close`. */
  dir: string;
  /** Directories of dead processes removed at start. */
  swept: number;
  close(): Promise<void>;
}

/** `WORK_DIR`'s default: one folder per service and user under the system temporary directory. */
export function defaultWorkRoot(service: string): string {
  const uid = typeof process.getuid === 'function' ? process.getuid() : 0;
  return path.join(os.tmpdir(), `artorizer-${service}-${uid}`);
}

/**
 * Linux's process start time (clock ticks since boot), which tells a reused pid from the dead
 * one; undefined for a process that is gone or a zombie (killed, not yet reaped).
 */
function startTime(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // the command name (field 2) may hold spaces and parentheses: count fields after the last ')'
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[0] === 'Z' || fields[0] === 'X' ? undefined : fields[19];
  } catch {
    return undefined;
  }
}

function alive(pid: number, started: string): boolean {
  if (started !== 'x') return startTime(pid) === started;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const INSTANCE = /^(\d+)-(\d+|x)-[0-9a-f]{8}$/;

/** Makes the root private, refusing one that another user owns or that is a symbolic link. */
async function securedRoot(root: string): Promise<void> {
  await fs.promises.mkdir(root, { recursive: true, mode: 0o700 });
  const info = await fs.promises.lstat(root);
  if (!info.isDirectory()) throw new Error(`WORK_DIR ${root} is not a directory`);
  const uid = typeof process.getuid === 'function' ? process.getuid() : info.uid;
  if (info.uid !== uid) throw new Error(`WORK_DIR ${root} belongs to another user (uid ${info.uid})`);
  if ((info.mode & 0o777) !== 0o700) await fs.promises.chmod(root, 0o700);
}

/**
 * Opens this process's directory under `root` after sweeping what dead processes left.
 * Files the process creates from now on are 0600 and directories 0700 (the umask is set
 * here, so files written by libraries, sharp's included, are private too).
 */
export async function openWorkDir(root: string): Promise<WorkDir> {
  process.umask(0o077);
  await securedRoot(root);
  let swept = 0;
  for (const name of await fs.promises.readdir(root)) {
    const match = INSTANCE.exec(name);
    if (!match || alive(Number(match[1]), match[2])) continue;
    await fs.promises.rm(path.join(root, name), { recursive: true, force: true });
    swept++;
  }
  const dir = path.join(root, `${process.pid}-${startTime(process.pid) ?? 'x'}-${randomBytes(4).toString('hex')}`);
  await fs.promises.mkdir(dir, { mode: 0o700 });
  return { dir, swept, close: () => fs.promises.rm(dir, { recursive: true, force: true }) };
}

import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * A service's working directory: `WORK_DIR` (created 0700) holds one directory per running
 * process (0700), named after its boot, pid namespace, pid and start time. At start a process
 * removes the directories of processes that are gone (killed, crashed), so nothing a dead
 * process wrote outlives its next start; live neighbours sharing WORK_DIR are left alone, and
 * so are folders of another pid namespace (another container), whose pids say nothing here:
 * give each container a WORK_DIR of its own.
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

function readOr(file: string, read: (file: string) => string): string {
  try {
    return read(file);
  } catch {
    return 'x';
  }
}

/**
 * Where a pid means something: this boot (a folder from an earlier boot is dead whatever its
 * pid) and this pid namespace (a pid from another container's namespace says nothing here).
 */
const BOOT = readOr('/proc/sys/kernel/random/boot_id', (f) => fs.readFileSync(f, 'utf8').trim().replace(/-/g, '').slice(0, 8));
const PID_NAMESPACE = readOr('/proc/self/ns/pid', (f) => /\[(\d+)\]/.exec(fs.readlinkSync(f))?.[1] ?? 'x');

/** `<boot>-<pid namespace>-<pid>-<start time>-<random>` */
const INSTANCE = /^([0-9a-f]{8}|x)-(\d+|x)-(\d+)-(\d+|x)-[0-9a-f]{8}$/;

/** Whether a folder's process is certainly gone: from an earlier boot, or dead in this pid namespace. */
function leftBehind(name: string): boolean {
  const match = INSTANCE.exec(name);
  if (!match) return false;
  const [, boot, namespace, pid, started] = match;
  if (boot !== 'x' && BOOT !== 'x' && boot !== BOOT) return true;
  return namespace === PID_NAMESPACE && !alive(Number(pid), started);
}

/**
 * Creates the root 0700 when it is missing. An existing root is used as it is (this process's
 * own folder inside it is 0700 whatever the root's mode) unless it is not a directory, or
 * belongs to another user without the sticky bit (that user could swap our folders).
 */
async function checkedRoot(root: string): Promise<void> {
  await fs.promises.mkdir(root, { recursive: true, mode: 0o700 });
  const info = await fs.promises.lstat(root);
  if (!info.isDirectory()) throw new Error(`WORK_DIR ${root} is not a directory`);
  const uid = typeof process.getuid === 'function' ? process.getuid() : info.uid;
  if (info.uid !== uid && info.uid !== 0 && (info.mode & 0o1000) === 0) throw new Error(`WORK_DIR ${root} belongs to another user (uid ${info.uid})`);
}

/**
 * Opens this process's directory under `root` after sweeping what dead processes left.
 * Files the process creates from now on are 0600 and directories 0700 (the umask is set
 * here, so files written by libraries, sharp's included, are private too).
 */
export async function openWorkDir(root: string): Promise<WorkDir> {
  process.umask(0o077);
  await checkedRoot(root);
  let swept = 0;
  for (const name of await fs.promises.readdir(root)) {
    if (!leftBehind(name)) continue;
    await fs.promises.rm(path.join(root, name), { recursive: true, force: true });
    swept++;
  }
  const dir = path.join(root, `${BOOT}-${PID_NAMESPACE}-${process.pid}-${startTime(process.pid) ?? 'x'}-${randomBytes(4).toString('hex')}`);
  await fs.promises.mkdir(dir, { mode: 0o700 });
  return { dir, swept, close: () => fs.promises.rm(dir, { recursive: true, force: true }) };
}

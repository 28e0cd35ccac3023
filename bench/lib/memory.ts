import { execFileSync } from 'node:child_process';
import fs from 'node:fs';

/**
 * Per-process measurements from /proc: peak resident memory over a window and the bytes
 * the process read and wrote (all read()/write() calls, sockets included) over it.
 *
 * Peak: `clear_refs` with "5" resets the kernel's high-water mark (VmHWM) to the current
 * RSS; VmHWM read after the window is the peak during it. Where clear_refs is not writable
 * (not our process, no CAP_SYS_PTRACE-equivalent, old kernel) VmRSS is sampled every 5 ms
 * instead, which can miss short spikes.
 */
export type MemMethod = 'clear_refs' | 'sampling-5ms';

export interface ProcStatus {
  rssKiB: number;
  hwmKiB: number;
}

export interface ProcIo {
  rchar: number;
  wchar: number;
}

export interface WindowResult {
  pid: number;
  /** CPU time (user + system) the process used during the window, ms (10 ms resolution). */
  cpuMs: number;
  method: MemMethod;
  rssBeforeKiB: number;
  peakKiB: number;
  /** peak - rssBefore: how much the process's resident memory grew at most during the window. */
  growthKiB: number;
  rssAfterKiB: number;
  /** Bytes read / written by the process during the window (/proc/<pid>/io rchar, wchar). */
  readBytes: number;
  writtenBytes: number;
}

function kiB(status: string, key: string): number {
  const match = new RegExp(`^${key}:\\s+(\\d+) kB$`, 'm').exec(status);
  if (!match) throw new Error(`no ${key} in /proc status`);
  return Number(match[1]);
}

export function readStatus(pid: number): ProcStatus {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return { rssKiB: kiB(status, 'VmRSS'), hwmKiB: kiB(status, 'VmHWM') };
}

export function readIo(pid: number): ProcIo {
  const io = fs.readFileSync(`/proc/${pid}/io`, 'utf8');
  const field = (key: string): number => {
    const match = new RegExp(`^${key}: (\\d+)$`, 'm').exec(io);
    if (!match) throw new Error(`no ${key} in /proc/${pid}/io`);
    return Number(match[1]);
  };
  return { rchar: field('rchar'), wchar: field('wchar') };
}

/** Clock ticks per second of /proc's CPU counters. */
export const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** utime + stime of a process, in clock ticks. */
export function processTicks(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state); utime and stime are fields 14 and 15
  return Number(fields[11]) + Number(fields[12]);
}

/** Machine-wide CPU ticks from /proc/stat: busy (including steal) and total. */
export function machineTicks(): { busy: number; total: number } {
  const line = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0];
  const [user, nice, system, idle, iowait, irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
  const busy = user + nice + system + irq + softirq + (steal ?? 0);
  return { busy, total: busy + idle + iowait };
}

function resetPeak(pid: number): boolean {
  try {
    fs.writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/** Which method works for this process: tries a clear_refs reset once. */
export function detectMethod(pid: number): MemMethod {
  return resetPeak(pid) ? 'clear_refs' : 'sampling-5ms';
}

/** One measurement window over one process; open before the upload, close after. */
export class ProcWindow {
  private readonly rssBeforeKiB: number;
  private readonly ioBefore: ProcIo;
  private readonly ticksBefore: number;
  private sampledPeakKiB = 0;
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly pid: number,
    private readonly method: MemMethod,
  ) {
    if (method === 'clear_refs' && !resetPeak(pid)) throw new Error(`clear_refs of ${pid} stopped working`);
    this.rssBeforeKiB = readStatus(pid).rssKiB;
    this.sampledPeakKiB = this.rssBeforeKiB;
    this.ioBefore = readIo(pid);
    this.ticksBefore = processTicks(pid);
    if (method === 'sampling-5ms') {
      this.timer = setInterval(() => {
        try {
          this.sampledPeakKiB = Math.max(this.sampledPeakKiB, readStatus(pid).rssKiB);
        } catch {
          // the process went away; close() reports it
        }
      }, 5);
    }
  }

  close(): WindowResult {
    if (this.timer) clearInterval(this.timer);
    const status = readStatus(this.pid);
    const io = readIo(this.pid);
    const peakKiB = this.method === 'clear_refs' ? status.hwmKiB : Math.max(this.sampledPeakKiB, status.rssKiB);
    return {
      pid: this.pid,
      cpuMs: ((processTicks(this.pid) - this.ticksBefore) * 1000) / CLK_TCK,
      method: this.method,
      rssBeforeKiB: this.rssBeforeKiB,
      peakKiB,
      growthKiB: peakKiB - this.rssBeforeKiB,
      rssAfterKiB: status.rssKiB,
      readBytes: io.rchar - this.ioBefore.rchar,
      writtenBytes: io.wchar - this.ioBefore.wchar,
    };
  }
}

/** Direct children of a process, from every thread's /proc/<pid>/task/<tid>/children. */
export function childrenOf(pid: number): number[] {
  const result = new Set<number>();
  let tasks: string[];
  try {
    tasks = fs.readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
  for (const tid of tasks) {
    try {
      for (const child of fs.readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim().split(/\s+/)) {
        if (child) result.add(Number(child));
      }
    } catch {
      // thread ended meanwhile
    }
  }
  return [...result];
}

/** All descendants of a process (children, grandchildren, ...). */
export function descendantsOf(pid: number): number[] {
  const found: number[] = [];
  const queue = childrenOf(pid);
  while (queue.length > 0) {
    const next = queue.shift()!;
    found.push(next);
    queue.push(...childrenOf(next));
  }
  return found;
}

export function commandLine(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
  } catch {
    return '';
  }
}

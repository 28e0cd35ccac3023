import cliProgress from 'cli-progress';
import { JobStatus, TERMINAL } from './events';
import { formatBytes } from './format';

/** One file's progress line: the upload, then the processing, then what was saved. */
export interface FileProgress {
  uploading(sent: number, total: number, how: string): void;
  /** A retry after 429/503, or a dropped event stream being opened again. */
  note(text: string): void;
  processing(status: JobStatus): void;
  phase(text: string): void;
  /** The end: a full bar when `complete`, else the bar stays where it stopped. */
  finish(text: string, complete: boolean): void;
}

/** Where progress goes: bars on a terminal, nothing otherwise. */
export interface Display {
  /** Whether bars are drawn (results then wait until they stop: they share the terminal). */
  readonly live: boolean;
  file(name: string): FileProgress;
  /** A message for the person (stderr), printed above the bars while they run. */
  message(text: string): void;
  stop(): void;
}

const NO_PROGRESS: FileProgress = { uploading() {}, note() {}, processing() {}, phase() {}, finish() {} };

/** No bars: messages straight to stderr (the --json mode, --no-progress, a stderr that is not a terminal). */
export class PlainDisplay implements Display {
  readonly live = false;
  file(): FileProgress {
    return NO_PROGRESS;
  }
  message(text: string): void {
    process.stderr.write(`${text}\n`);
  }
  stop(): void {}
}

function fit(name: string, width: number): string {
  return name.length <= width ? name.padEnd(width) : `${name.slice(0, width - 1)}…`;
}

/** A processing line: "processing: protecting (3/4)". */
export function describeStatus(status: JobStatus): string {
  const p = status.progress;
  if (status.status === 'queued' || TERMINAL.has(status.status)) return status.status;
  const step = p && p.total_steps > 0 ? ` (${p.step_number}/${p.total_steps})` : '';
  return `${status.status}${p?.stage && p.stage !== 'unknown' ? `: ${p.stage}` : ''}${step}`;
}

/** cli-progress bars on stderr, one per file. */
export class BarDisplay implements Display {
  readonly live = true;
  private readonly bars: cliProgress.MultiBar;
  private stopped = false;

  constructor(private readonly nameWidth: number) {
    this.bars = new cliProgress.MultiBar(
      {
        format: '{name} {bar} {percentage}% | {phase}',
        stream: process.stderr,
        hideCursor: true,
        clearOnComplete: false,
        stopOnComplete: false,
        autopadding: true,
        barsize: 24,
        fps: 10,
      },
      cliProgress.Presets.shades_classic,
    );
  }

  file(name: string): FileProgress {
    const bar = this.bars.create(1, 0, { name: fit(name, this.nameWidth), phase: 'waiting' });
    let uploading = true;
    return {
      uploading: (sent, total, how) => {
        bar.setTotal(Math.max(total, 1));
        bar.update(sent, { phase: `uploading (${how}) ${formatBytes(sent)} of ${formatBytes(total)}` });
      },
      note: (text) => bar.update({ phase: text }),
      processing: (status) => {
        if (uploading) {
          uploading = false;
          bar.setTotal(100);
        }
        bar.update(Math.max(0, Math.min(100, status.progress?.percentage ?? 0)), { phase: describeStatus(status) });
      },
      phase: (text) => bar.update({ phase: text }),
      finish: (text, complete) => {
        if (!complete) {
          bar.update({ phase: text });
          return;
        }
        if (uploading) bar.setTotal(100);
        uploading = false;
        bar.update(100, { phase: text });
      },
    };
  }

  message(text: string): void {
    if (this.stopped) process.stderr.write(`${text}\n`);
    else this.bars.log(`${text}\n`);
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.bars.stop();
  }
}

/** Bars only on a terminal, and never with --json or --no-progress. */
export function createDisplay(options: { json: boolean; progress: boolean }, names: string[]): Display {
  if (options.json || !options.progress || !process.stderr.isTTY) return new PlainDisplay();
  return new BarDisplay(Math.min(28, Math.max(8, ...names.map((n) => n.length))));
}

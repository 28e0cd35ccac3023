import { ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { Host, LOCAL, wrapped } from './host';
import { commandLine, descendantsOf } from './memory';

export const REPO_ROOT = path.resolve(__dirname, '..', '..');
const PROBE = path.join(__dirname, 'listen-probe.cjs');

/** The node flags `make up` launches the services with (scripts/node-flags), read once. */
const SERVICE_NODE_FLAGS = fs.readFileSync(path.join(REPO_ROOT, 'scripts', 'node-flags'), 'utf8');

/** The flags a service is launched with: NODE_FLAGS in its environment when set (empty for none), else SERVICE_NODE_FLAGS. */
function nodeFlags(env: Record<string, string | undefined>): string[] {
  return (env.NODE_FLAGS ?? SERVICE_NODE_FLAGS).split(/\s+/).filter(Boolean);
}

/** A TCP server that started listening, as reported by the preloaded probe. */
interface Listen {
  pid: number;
  port: number;
  server: string;
}

export interface Service {
  label: string;
  /** The process we spawned (leader of its own process group). */
  launcherPid: number;
  /** The process that actually serves (the spawned one, or a descendant of it); measure this one. */
  pid: number;
  /** Its command line, for the record. */
  command: string;
  listens: Listen[];
  /** Log lines (warn and above at LOG_LEVEL=warn) printed after start-up. */
  logLines: string[];
  stop(): Promise<void>;
  /** Synchronous last resort for process exit: SIGKILL the whole group. */
  killNow(): void;
}

interface StartOptions {
  label: string;
  /** Script relative to the repository root, run by node with tsx (`node --import tsx <script>`). */
  script: string;
  env: Record<string, string>;
  /** True once the listens seen so far mean the service is ready. */
  ready: (listens: Listen[]) => boolean;
  timeoutMs?: number;
  /** Where it runs (default this machine; a network namespace for bench/net.ts and the hosts lab). */
  host?: Host;
}

function parseListen(line: string): Listen | undefined {
  if (!line.startsWith('{')) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const record = parsed as Record<string, unknown>;
  if (record.msg !== 'bench-probe listening') return undefined;
  if (typeof record.pid !== 'number' || typeof record.port !== 'number' || typeof record.server !== 'string') return undefined;
  return { pid: record.pid, port: record.port, server: record.server };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // group already gone
  }
}

interface Launch {
  label: string;
  /** The command and its arguments, run on `host`. */
  argv: readonly string[];
  env: NodeJS.ProcessEnv;
  host?: Host;
  timeoutMs?: number;
  /** Called with every line of stdout and stderr until it answers the serving pid, or `true` for the launcher (ready), or undefined (not yet). */
  readyOn: (line: string) => number | true | undefined;
  /** Whether `pid` must be the launcher or a descendant of it (the probe reports the pid it saw). */
  checkDescendant: boolean;
  listens: Listen[];
}

/**
 * Starts a command in its own process group with stdout and stderr piped, and resolves when
 * `readyOn` recognises a line. No sleeping: readiness is the line itself; the timeout only
 * guards against a service that never comes up.
 */
function launch(options: Launch): Promise<Service> {
  const [file, argv] = wrapped(options.host ?? LOCAL, options.argv[0], options.argv.slice(1));
  const child: ChildProcess = spawn(file, argv, { cwd: REPO_ROOT, env: options.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const launcherPid = child.pid;
  if (launcherPid === undefined) return Promise.reject(new Error(`${options.label}: spawn failed`));
  const logLines: string[] = [];
  const startupLines: string[] = [];
  let ready = false;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const timeoutMs = options.timeoutMs ?? 60_000;

  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    signalGroup(launcherPid, 'SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([exited, new Promise<void>((resolve) => (timer = setTimeout(resolve, 15_000)))]);
    clearTimeout(timer);
    // anything left of the group gets SIGKILL
    signalGroup(launcherPid, 'SIGKILL');
  };
  // Only while our launcher is alive (or not yet reaped by stop()): never signal a group id that may have been reused.
  const killNow = (): void => {
    if (child.exitCode === null && child.signalCode === null) signalGroup(launcherPid, 'SIGKILL');
  };

  return new Promise<Service>((resolve, reject) => {
    const timer = setTimeout(() => {
      killNow();
      reject(new Error(`${options.label}: not ready after ${timeoutMs} ms\n${startupLines.join('\n')}`));
    }, timeoutMs);
    const onLine = (line: string): void => {
      if (ready) {
        if (line.trim()) logLines.push(line);
        return;
      }
      startupLines.push(line);
      const answer = options.readyOn(line);
      if (answer === undefined) return;
      const servingPid = answer === true ? launcherPid : answer;
      ready = true;
      clearTimeout(timer);
      if (options.checkDescendant && servingPid !== launcherPid) {
        const tree = descendantsOf(launcherPid);
        if (!tree.includes(servingPid)) {
          killNow();
          reject(new Error(`${options.label}: pid ${servingPid} listens but is not a descendant of launcher ${launcherPid} (${tree.join(',')})`));
          return;
        }
      }
      resolve({ label: options.label, launcherPid, pid: servingPid, command: commandLine(servingPid), listens: options.listens, logLines, stop, killNow });
    };
    readline.createInterface({ input: child.stdout! }).on('line', onLine);
    readline.createInterface({ input: child.stderr! }).on('line', onLine);
    child.once('exit', (code, signal) => {
      if (ready) return;
      clearTimeout(timer);
      reject(new Error(`${options.label} exited before it was ready (code ${code}, signal ${signal})\n${startupLines.join('\n')}`));
    });
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

/**
 * Starts `node <NODE_FLAGS> --import tsx <script>` (one process: the node that serves) with the listen
 * probe preloaded, and resolves when the probe's JSON lines say it listens.
 */
export function startService(options: StartOptions): Promise<Service> {
  const nodeOptions = [process.env.NODE_OPTIONS ?? '', `--require ${PROBE}`].join(' ').trim();
  const listens: Listen[] = [];
  const env = { ...process.env, ...options.env, NODE_OPTIONS: nodeOptions };
  return launch({
    label: options.label,
    argv: [process.execPath, ...nodeFlags(env), '--import', 'tsx', options.script],
    env,
    host: options.host,
    timeoutMs: options.timeoutMs,
    checkDescendant: true,
    listens,
    readyOn: (line) => {
      const listen = parseListen(line);
      if (!listen) return undefined;
      listens.push(listen);
      return options.ready(listens) ? listen.pid : undefined;
    },
  });
}

/** Any other program as a service (redis-server, ...): ready when it prints a line matching `readyLine`. */
export function startCommand(options: { label: string; argv: readonly string[]; readyLine: RegExp; host?: Host; env?: Record<string, string>; timeoutMs?: number }): Promise<Service> {
  return launch({
    label: options.label,
    argv: options.argv,
    env: { ...process.env, ...options.env },
    host: options.host,
    timeoutMs: options.timeoutMs,
    checkDescendant: false,
    listens: [],
    // `ip netns exec` execs the command: the launcher is the program itself
    readyOn: (line) => (options.readyLine.test(line) ? true : undefined),
  });
}

export interface Processor {
  service: Service;
  grpcPort: number;
  httpPort: number;
}

export async function startProcessor(env: Record<string, string>, host?: Host, label = 'processor'): Promise<Processor> {
  const service = await startService({
    label,
    host,
    script: 'reference-processor/src/main.ts',
    env: { GRPC_PORT: '0', HTTP_PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn', ...env },
    // grpc-js serves on an http2 server, the original HTTP API on a node:http server
    ready: (listens) => listens.some((l) => l.server === 'Http2Server') && listens.some((l) => l.server === 'Server'),
  });
  const grpcPort = service.listens.find((l) => l.server === 'Http2Server')!.port;
  const httpPort = service.listens.find((l) => l.server === 'Server')!.port;
  const pids = new Set(service.listens.map((l) => l.pid));
  if (pids.size !== 1) throw new Error(`processor ports are served by several processes: ${[...pids].join(',')}`);
  return { service, grpcPort, httpPort };
}

export async function startRouter(label: string, env: Record<string, string>, host?: Host): Promise<{ service: Service; port: number }> {
  const service = await startService({
    label,
    host,
    script: 'router/src/main.ts',
    // The benchmarks load routers from one address far above the per-address submit limit and
    // the caps on uploads and event streams (which count per address on an open router): off.
    env: { PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn', RATE_LIMIT_SUBMITS_PER_MINUTE: '0', MAX_CONCURRENT_UPLOADS_PER_KEY: '1000000', MAX_EVENT_STREAMS_PER_KEY: '1000000', ...env },
    ready: (listens) => listens.some((l) => l.server === 'Server'),
  });
  return { service, port: service.listens.find((l) => l.server === 'Server')!.port };
}

export function isAlive(service: Service): boolean {
  return alive(service.pid);
}

export interface Store {
  service: Service;
  port: number;
  bucket: string;
}

/**
 * The embedded S3-compatible store (s3rver, scripts/store/main.ts, which uses
 * startEmbeddedStore) as its own process, so its CPU is not the benchmark's.
 */
export async function startStore(options: { directory: string; bucket: string; bind: string; host?: Host }): Promise<Store> {
  const service = await startService({
    label: 'store',
    host: options.host,
    script: 'scripts/store/main.ts',
    env: { S3_PORT: '0', S3_HOST: options.bind, S3_DATA_DIR: options.directory, S3_BUCKET: options.bucket },
    ready: (listens) => listens.some((l) => l.server === 'Server'),
  });
  return { service, port: service.listens.find((l) => l.server === 'Server')!.port, bucket: options.bucket };
}

/** Any script of this repository that listens on one HTTP port (PORT=0, HOST). */
export async function startHttpScript(label: string, script: string, env: Record<string, string>, host?: Host): Promise<{ service: Service; port: number }> {
  const service = await startService({
    label,
    host,
    script,
    env: { PORT: '0', HOST: '127.0.0.1', ...env },
    ready: (listens) => listens.some((l) => l.server === 'Server'),
  });
  return { service, port: service.listens.find((l) => l.server === 'Server')!.port };
}

/**
 * Waits for services started in parallel, pushing every one that came up to `services` (so
 * the caller stops it) before rethrowing the first failure: a failed start must not leave the
 * others running unowned.
 */
export async function settleStarts<T extends { service: Service }>(starts: readonly Promise<T>[], services: Service[]): Promise<T[]> {
  const results = await Promise.allSettled(starts);
  for (const r of results) if (r.status === 'fulfilled') services.push(r.value.service);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return results.map((r) => (r as PromiseFulfilledResult<T>).value);
}

import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Host, LOCAL, run, wrapped } from './host';
import { childrenOf, commandLine } from './memory';
import { Service } from './stack';
import { UPSTREAM_IDLE_MS } from './upstream-idle';

/** Why nginx cannot be a contender here, or undefined when it can (scripts/nginx/install.sh installs it). */
export function nginxUnavailable(): string | undefined {
  try {
    execFileSync('nginx', ['-v'], { stdio: 'ignore' });
    return undefined;
  } catch {
    return 'nginx is not installed (scripts/nginx/install.sh installs it; make bench runs it)';
  }
}

/** How long nginx gets to accept connections, and then to show its master and worker. */
const START_TIMEOUT_MS = 10_000;

/** A port nothing listens on now, on this machine's loopback. */
function freeLocalPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

/** Resolves once something accepts TCP connections at host:port on `where` (polled, bounded). */
async function accepting(where: Host, ip: string, port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      // bash's /dev/tcp opens a connection from inside the namespace, if there is one
      await run(where, 'bash', ['-c', `exec 3<>/dev/tcp/${ip}/${port}`]);
      return;
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`nginx: nothing accepts ${ip}:${port} after ${timeoutMs} ms: ${(err as Error).message}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

/**
 * nginx's master (the launcher, or its child under `ip netns exec`) and its one worker, polled
 * until both carry their titles (bounded).
 */
async function masterAndWorker(launcherPid: number, timeoutMs: number): Promise<{ master: number; worker: number } | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const master = [launcherPid, ...childrenOf(launcherPid)].find((pid) => commandLine(pid).includes('nginx: master'));
    const worker = master === undefined ? undefined : childrenOf(master).find((pid) => commandLine(pid).includes('nginx: worker'));
    if (master !== undefined && worker !== undefined) return { master, worker };
    if (Date.now() > deadline) return undefined;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * nginx as a streaming reverse proxy in front of `upstream` (the processor's HTTP API): the
 * request body is passed on as it arrives (`proxy_request_buffering off`), one worker, as a
 * standard engine doing the router's job would. Its worker is the process measured.
 */
export async function startNginx(options: { dir: string; host?: Host; bind: string; upstream: string }): Promise<{ service: Service; port: number }> {
  const host = options.host ?? LOCAL;
  const port = host === LOCAL ? await freeLocalPort() : 18080;
  const prefix = path.join(options.dir, `nginx-${port}`);
  fs.mkdirSync(path.join(prefix, 'logs'), { recursive: true });
  const conf = path.join(prefix, 'nginx.conf');
  fs.writeFileSync(
    conf,
    [
      'worker_processes 1;',
      `pid ${prefix}/nginx.pid;`,
      `error_log ${prefix}/logs/error.log warn;`,
      'events { worker_connections 1024; }',
      'http {',
      '  access_log off;',
      `  client_body_temp_path ${prefix}/body;`,
      `  proxy_temp_path ${prefix}/proxy;`,
      `  upstream processor { server ${options.upstream}; keepalive 32; keepalive_timeout ${UPSTREAM_IDLE_MS}ms; }`,
      '  server {',
      `    listen ${options.bind}:${port};`,
      '    client_max_body_size 0;',
      '    location / {',
      '      proxy_pass http://processor;',
      '      proxy_http_version 1.1;',
      '      proxy_set_header Connection "";',
      '      proxy_request_buffering off;',
      '      proxy_buffering off;',
      '    }',
      '  }',
      '}',
      '',
    ].join('\n'),
  );
  const [file, argv] = wrapped(host, 'nginx', ['-c', conf, '-p', prefix, '-g', 'daemon off;']);
  const child: ChildProcess = spawn(file, argv, { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  const launcherPid = child.pid;
  if (launcherPid === undefined) throw new Error('nginx: spawn failed');
  const logLines: string[] = [];
  child.stderr!.on('data', (d: Buffer) => logLines.push(...d.toString().split('\n').filter(Boolean)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const signal = (s: NodeJS.Signals) => {
    try {
      process.kill(-launcherPid, s);
    } catch {
      // already gone
    }
  };
  const killNow = () => {
    if (child.exitCode === null && child.signalCode === null) signal('SIGKILL');
  };
  try {
    await accepting(host, options.bind, port, START_TIMEOUT_MS);
  } catch (err) {
    killNow();
    throw new Error(`${(err as Error).message}\n${logLines.join('\n')}`);
  }
  // the kernel accepts on the socket before nginx has set its titles and forked its worker
  const found = await masterAndWorker(launcherPid, START_TIMEOUT_MS);
  if (found === undefined) {
    killNow();
    throw new Error(`nginx: no master with a worker process under pid ${launcherPid} after ${START_TIMEOUT_MS} ms\n${logLines.join('\n')}`);
  }
  const { master, worker } = found;
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    signal('SIGQUIT');
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([exited, new Promise<void>((resolve) => (timer = setTimeout(resolve, 5000)))]);
    clearTimeout(timer);
    signal('SIGKILL');
  };
  const service: Service = { label: 'nginx', launcherPid, pid: worker, command: commandLine(worker), listens: [{ pid: master, port, server: 'nginx' }], logLines, stop, killNow };
  return { service, port };
}

import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import readline from 'node:readline';
import { Redis } from 'ioredis';
import { freePort } from '../ports';

export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Why Redis cannot be used here, or undefined when it answers PING (checked synchronously, at load). */
export function redisUnavailable(): string | undefined {
  const { hostname, port } = new URL(REDIS_URL);
  const probe = `const s=require('net').connect(${Number(port || 6379)},${JSON.stringify(hostname)});s.on('connect',()=>s.write('PING\\r\\n'));s.on('data',d=>process.exit(String(d).startsWith('+PONG')?0:1));s.on('error',()=>process.exit(1));setTimeout(()=>process.exit(1),2000);`;
  try {
    execFileSync(process.execPath, ['-e', probe], { stdio: 'ignore' });
    return undefined;
  } catch {
    return `Redis at ${REDIS_URL} does not answer PING`;
  }
}

/** A key prefix no other test run uses. */
export function uniquePrefix(name: string): string {
  return `artorizer-test-${name}-${process.pid}-${Date.now()}`;
}

/** Deletes every key under a prefix. */
export async function dropPrefix(prefix: string): Promise<void> {
  const client = new Redis(REDIS_URL);
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    if (keys.length) await client.del(...keys);
    cursor = next;
  } while (cursor !== '0');
  client.disconnect();
}

/**
 * Registers the suite when Redis answers, and also with CI=true (where its absence must fail
 * the run). Otherwise prints the reason and records it in one test.
 */
export function describeWithRedis(name: string, body: () => void): void {
  const reason = redisUnavailable();
  if (reason && process.env.CI !== 'true') {
    process.stderr.write(`\n[${name}] not run: ${reason}\n`);
    describe(name, () => {
      it('needs Redis, which is not reachable on this machine', () => {
        expect(redisUnavailable()).toBe(reason);
      });
    });
    return;
  }
  describe(name, body);
}

/** A redis-server's persistence: none (the default), or an append-only file in `dir`, fsynced before each reply. */
export interface PrivateRedisOptions {
  port?: number;
  aofDir?: string;
}

/**
 * A redis-server of the test's own on a free port (or `port`), for tests that change
 * server-wide state (SCRIPT FLUSH, maxmemory) or stop the server, which the shared Redis must
 * not see. Resolves once it answers. `kill` is a crash (SIGKILL); `stop` a clean shutdown.
 */
export async function startPrivateRedis(options: PrivateRedisOptions = {}): Promise<{ url: string; stop: () => Promise<void>; kill: () => Promise<void> }> {
  const port = options.port ?? (await freePort());
  const persistence = options.aofDir ? ['--appendonly', 'yes', '--appendfsync', 'always', '--dir', options.aofDir] : ['--appendonly', 'no'];
  const server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', ...persistence], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = once(server, 'exit');
  const log: string[] = [];
  await new Promise<void>((resolve, reject) => {
    readline.createInterface({ input: server.stdout! }).on('line', (line) => {
      log.push(line);
      if (line.includes('Ready to accept connections')) resolve();
    });
    void exited.then(() => reject(new Error(`redis-server exited at start: ${log.slice(-5).join('\n')}`)));
  });
  const signal = async (name: NodeJS.Signals) => {
    if (server.exitCode === null && server.signalCode === null) server.kill(name);
    await exited;
  };
  return { url: `redis://127.0.0.1:${port}`, stop: () => signal('SIGTERM'), kill: () => signal('SIGKILL') };
}

import fs from 'node:fs';
import path from 'node:path';
import { Lab, LabHost, createLab } from './netns';
import { Service, settleStarts, startCommand, startProcessor, startRouter, startStore } from './stack';
import { BUCKET, storeEnv } from './transfer-stack';

/**
 * Several hosts on this machine, each a network namespace (bench/lib/netns.ts) on one switch:
 * Redis, the object store (the embedded s3rver), processor hosts p1..pN and router hosts
 * r1..rM, with this process joined to the switch as the client. Shared by the multi-host
 * test (router/test/hosts) and the benchmark's `hosts` section: one way of building them.
 *
 * Every service is a process of its own started with `ip netns exec <ns>`; node services as
 * `node --import tsx <script>` (bench/lib/stack.ts). Router hosts resolve the name
 * `processors` (every processor host) and `p1`, `p2`, ... through /etc/netns/<ns>/hosts.
 */

export const GRPC_PORT = 50051;
const HTTP_PORT = 8000;
const REDIS_PORT = 6379;
/** The DNS name router hosts resolve to every processor host. */
export const PROCESSORS_NAME = 'processors';

export interface ProcessorHost {
  name: string;
  ip: string;
  /** ip:port of its gRPC service, as routers record it. */
  address: string;
  httpUrl: string;
  service: Service;
}

export interface RouterOnHost {
  label: string;
  /** The router host it runs on. */
  host: string;
  ip: string;
  url: string;
  service: Service;
  env: Record<string, string>;
}

export interface HostsOptions {
  routerHosts: number;
  processorHosts: number;
  /** Temporary files (store data, work directories); the caller removes it. */
  tempDir: string;
  /** Every service started is pushed here at once (the caller's signal handlers stop them). */
  services: Service[];
  log: (message: string) => void;
  processorEnv?: Record<string, string>;
  /** Limit every link (tc tbf); unlimited by default. */
  rateMbit?: number;
}

export interface HostsCluster {
  lab: Lab;
  routerHosts: LabHost[];
  redisUrl: string;
  redisService: Service;
  storeEndpoint: string;
  storeService: Service;
  /** The S3_* and AWS_* variables of the store, for routers and processors. */
  storeEnv: Record<string, string>;
  processors: ProcessorHost[];
  routers: RouterOnHost[];
  /** PROCESSOR_ADDR naming these processors (default all). */
  processorAddr(processors?: readonly ProcessorHost[]): string;
  /** Starts a router on router host `host` (REDIS_URL, the store and every processor preset; `env` overrides). */
  startRouter(label: string, host: string, env?: Record<string, string>): Promise<RouterOnHost>;
  /** Polls the router's /health/ready until it answers 200 with `serving` processors. */
  waitReady(router: RouterOnHost, serving: number, timeoutMs?: number): Promise<void>;
  /** Stops every service of the cluster, then removes the lab; idempotent. */
  stop(): Promise<void>;
}

/** redis-server in a host of its own, without persistence; protected mode off (it refuses other hosts; the lab has no way out). */
function startRedis(host: LabHost, dir: string): Promise<Service> {
  return startCommand({
    label: 'redis',
    host: host.host,
    argv: ['redis-server', '--port', String(REDIS_PORT), '--bind', host.ip, '--save', '', '--appendonly', 'no', '--protected-mode', 'no', '--dir', dir],
    readyLine: /Ready to accept connections/,
  });
}

export async function startHosts(o: HostsOptions): Promise<HostsCluster> {
  const processorNames = Array.from({ length: o.processorHosts }, (_, i) => `p${i + 1}`);
  const routerNames = Array.from({ length: o.routerHosts }, (_, i) => `r${i + 1}`);
  const lab = await createLab({ hosts: ['redis', 'store', ...processorNames, ...routerNames], rateMbit: o.rateMbit, joinRoot: true });
  const mine: Service[] = [];
  const track = (s: Service) => {
    mine.push(s);
    o.services.push(s);
  };
  /** Services started in parallel: each one that came up is tracked before the first failure is rethrown. */
  const started = async <T extends { service: Service }>(starts: Promise<T>[]): Promise<T[]> => {
    const tracked: Service[] = [];
    try {
      return await settleStarts(starts, tracked);
    } finally {
      tracked.forEach(track);
    }
  };
  let stopped: Promise<void> | undefined;
  const stop = () =>
    (stopped ??= Promise.all(mine.map((s) => s.stop())).then(() => {
      lab.teardown();
    }));
  try {
    const h = lab.hosts;
    const routerHosts = routerNames.map((n) => h[n]);
    const processorHosts = processorNames.map((n) => h[n]);
    const names = { [PROCESSORS_NAME]: processorHosts.map((p) => p.ip), ...Object.fromEntries(processorHosts.map((p) => [p.name, [p.ip]])) };
    for (const r of routerHosts) lab.writeHosts(r.name, names);
    o.log(
      `hosts: ${Object.values(h)
        .map((x) => `${x.name} ${x.ip}`)
        .join(', ')}; this process ${lab.rootIp} (${lab.namespaces.length} namespaces)`,
    );

    const redisDir = path.join(o.tempDir, 'redis');
    fs.mkdirSync(redisDir, { recursive: true });
    const [redis, store] = await started<{ service: Service; port?: number }>([
      startRedis(h.redis, redisDir).then((service) => ({ service })),
      startStore({ directory: path.join(o.tempDir, 's3'), bucket: BUCKET, bind: h.store.ip, host: h.store.host }),
    ]);
    const storeEndpoint = `http://${h.store.ip}:${store.port!}`;
    const s3 = storeEnv(storeEndpoint);
    const processors = await started(
      processorHosts.map((p) =>
        startProcessor(
          {
            HOST: '0.0.0.0',
            GRPC_PORT: String(GRPC_PORT),
            HTTP_PORT: String(HTTP_PORT),
            WORK_DIR: path.join(o.tempDir, `work-${p.name}`),
            SHUTDOWN_GRACE_MS: '0',
            ...s3,
            ...o.processorEnv,
          },
          p.host,
          p.name,
        ).then((processor) => ({ ...processor, host: p })),
      ),
    );
    const processorList: ProcessorHost[] = processors.map((p) => ({
      name: p.host.name,
      ip: p.host.ip,
      address: `${p.host.ip}:${GRPC_PORT}`,
      httpUrl: `http://${p.host.ip}:${HTTP_PORT}`,
      service: p.service,
    }));
    const redisUrl = `redis://${h.redis.ip}:${REDIS_PORT}`;

    const processorAddr = (subset: readonly ProcessorHost[] = processorList): string =>
      subset.length === processorList.length ? `dns:///${PROCESSORS_NAME}:${GRPC_PORT}` : subset.map((p) => p.address).join(',');
    const routers: RouterOnHost[] = [];
    const cluster: HostsCluster = {
      lab,
      routerHosts,
      redisUrl,
      redisService: redis.service,
      storeEndpoint,
      storeService: store.service,
      storeEnv: s3,
      processors: processorList,
      routers,
      processorAddr,
      startRouter: async (label, hostName, env = {}) => {
        const host = lab.hosts[hostName];
        if (!routerHosts.includes(host)) throw new Error(`${hostName} is not a router host`);
        const full: Record<string, string> = {
          HOST: '0.0.0.0',
          REDIS_URL: redisUrl,
          PROCESSOR_ADDR: processorAddr(),
          WORK_DIR: path.join(o.tempDir, `work-${label}`),
          SHUTDOWN_GRACE_MS: '1000',
          ...s3,
          ...env,
        };
        const [router] = (await started([startRouter(label, full, host.host)])).map((r): RouterOnHost => ({
          label,
          host: hostName,
          ip: host.ip,
          url: `http://${host.ip}:${r.port}`,
          service: r.service,
          env: full,
        }));
        routers.push(router);
        return router;
      },
      waitReady: async (router, serving, timeoutMs = 30_000) => {
        const deadline = Date.now() + timeoutMs;
        let last = '';
        for (;;) {
          try {
            const res = await fetch(`${router.url}/health/ready`, { signal: AbortSignal.timeout(2000) });
            const body = (await res.json()) as { processors?: { serving?: number } };
            last = `${res.status} ${JSON.stringify(body)}`;
            if (res.status === 200 && body.processors?.serving === serving) return;
          } catch (err) {
            last = (err as Error).message;
          }
          if (Date.now() > deadline) throw new Error(`${router.label}: not ready with ${serving} processors serving after ${timeoutMs} ms (last answer: ${last})`);
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      },
      stop,
    };
    return cluster;
  } catch (err) {
    await stop();
    throw err;
  }
}

import path from 'node:path';
import { EMBEDDED_CREDENTIALS } from '../../scripts/store/embedded-store';
import { MemMethod, detectMethod, readStatus } from './memory';
import { startNginx } from './nginx';
import { Processor, Service, Store, settleStarts, startHttpScript, startProcessor, startRouter, startStore } from './stack';
import { Topology } from './topology';

export type ContenderKind = 'floor' | 'nginx' | 'passthrough' | 'legacy' | 'stream' | 's3' | 'direct' | 'tus' | 'default';

/** Kinds that relay to the processor's original HTTP API (POST /v1/jobs, file field `file`) instead of being a router. */
const HTTP_RELAY_KINDS: readonly ContenderKind[] = ['nginx', 'passthrough'];

/**
 * What to start: `floor` needs no router, `nginx` is nginx in front of the processor's HTTP
 * API, `passthrough` a Node process that pipes the body unparsed to that API
 * (bench/lib/passthrough-relay.ts), `default` is a router as `make up` starts it (no TRANSFER_MODE, the embedded store),
 * `tus` a router with a store whose client uploads through tus at /files (TRANSFER_MODE of
 * TUS_STORE_MODE: tus is served in every store mode), the others one router each with
 * TRANSFER_MODE = kind.
 */
export interface ContenderPlan {
  label: string;
  kind: ContenderKind;
  /** The object store this contender's router uses: the embedded one (default) or Ceph RGW. */
  store?: 'embedded' | 'rgw';
  /** Extra router environment. */
  env?: Record<string, string>;
}

/**
 * The transfer table's contenders (`make bench`'s section 1 and the constrained-links section):
 * nginx where this machine has it, the Node pass-through and the Ceph RGW ones where they are
 * wanted (and RGW is here).
 */
export function transferPlans(has: { nginx: boolean; rgw: boolean; passthrough?: boolean }): ContenderPlan[] {
  return [
    { label: 'floor', kind: 'floor' },
    ...(has.nginx ? [{ label: 'nginx', kind: 'nginx' as const }] : []),
    ...(has.passthrough ? [{ label: 'passthrough', kind: 'passthrough' as const }] : []),
    { label: 'legacy', kind: 'legacy' },
    { label: 'stream', kind: 'stream' },
    { label: 's3', kind: 's3' },
    { label: 'direct', kind: 'direct' },
    { label: 'tus', kind: 'tus' },
    { label: 'default', kind: 'default' },
    ...(has.rgw
      ? [
          { label: 's3-rgw', kind: 's3' as const, store: 'rgw' as const },
          { label: 'direct-rgw', kind: 'direct' as const, store: 'rgw' as const },
        ]
      : []),
  ];
}

/** Kinds whose router talks to an object store. */
export const STORE_KINDS: readonly ContenderKind[] = ['s3', 'direct', 'tus', 'default'];

/** The TRANSFER_MODE of a `tus` contender's router (any mode with a store serves tus at /files). */
export const TUS_STORE_MODE = 'direct';

/** The TRANSFER_MODE a contender's router gets; none for `default` (the router chooses, as under `make up`). */
function transferModeOf(kind: ContenderKind): string | undefined {
  if (kind === 'default') return undefined;
  if (kind === 'tus') return TUS_STORE_MODE;
  return kind;
}

export interface Contender extends ContenderPlan {
  /** Upload URL: the router's POST /protect, or the processor's POST /v1/jobs for the floor. */
  url: string;
  /** Router base URL (for direct: POST /uploads and /protect; for tus: /files and /protect). */
  base: string;
  fileField: 'image' | 'file';
  router?: Service;
  routerMethod?: MemMethod;
  routerEnv?: Record<string, string>;
  /** The router's RSS right after it started, before any job: the baseline of "peak above idle". */
  routerIdleKiB?: number;
}

export interface TransferStack {
  topology: Topology;
  processor: Processor;
  processorMethod: MemMethod;
  processorUrl: string;
  store?: Store;
  storeEndpoint?: string;
  contenders: Contender[];
  services: Service[];
}

export const BUCKET = 'artorizer-bench';

export function storeEnv(endpoint: string): Record<string, string> {
  return {
    S3_ENDPOINT: endpoint,
    S3_BUCKET: BUCKET,
    S3_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: EMBEDDED_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: EMBEDDED_CREDENTIALS.secretAccessKey,
  };
}

/**
 * Starts the store (when a contender needs one), one processor and one router per non-floor
 * contender; every service it starts is pushed to `services` at once, so the caller can stop
 * them even when a later one fails to start.
 */
export async function startTransferStack(options: {
  topology: Topology;
  plans: readonly ContenderPlan[];
  tempDir: string;
  maxBytes: number;
  services: Service[];
  processorEnv?: Record<string, string>;
  /** Ceph RGW, for contenders with `store: 'rgw'`. */
  rgwEnv?: Record<string, string>;
  log: (message: string) => void;
}): Promise<TransferStack> {
  const { topology: t, plans, services } = options;
  const needStore = plans.some((p) => STORE_KINDS.includes(p.kind) && p.store !== 'rgw');
  let store: Store | undefined;
  let storeEndpoint: string | undefined;
  if (needStore) {
    store = await startStore({ directory: path.join(options.tempDir, 's3'), bucket: BUCKET, bind: t.bind, host: t.store });
    services.push(store.service);
    storeEndpoint = `http://${t.storeIp}:${store.port}`;
    options.log(`store pid ${store.service.pid} at ${storeEndpoint}`);
  }
  const s3 = storeEndpoint ? storeEnv(storeEndpoint) : {};
  const processor = await startProcessor(
    {
      HOST: t.bind,
      WORK_DIR: path.join(options.tempDir, 'processor-work'),
      MAX_FILE_SIZE: String(options.maxBytes),
      PROCESSOR_CONCURRENCY: '16',
      MAX_QUEUED_JOBS: '100000',
      SHUTDOWN_GRACE_MS: '0',
      ...s3,
      ...options.processorEnv,
    },
    t.processor,
  );
  services.push(processor.service);
  const processorMethod = detectMethod(processor.service.pid);
  const processorUrl = `http://${t.processorIp}:${processor.httpPort}`;
  options.log(`processor pid ${processor.service.pid}, gRPC ${processor.grpcPort}, HTTP ${processor.httpPort}, memory via ${processorMethod}`);

  const storeOf = (p: ContenderPlan): Record<string, string> => {
    if (!STORE_KINDS.includes(p.kind)) return {};
    if (p.store !== 'rgw') return s3;
    if (!options.rgwEnv) throw new Error(`${p.label}: no Ceph RGW was started`);
    return options.rgwEnv;
  };
  const routerPlans = plans.filter((p) => p.kind !== 'floor');
  const routers = await settleStarts(
    routerPlans.map((p) => {
      if (p.kind === 'nginx') return startNginx({ dir: options.tempDir, host: t.router, bind: t.bind, upstream: `${t.processorIp}:${processor.httpPort}` }).then((r) => ({ ...r, env: {} }));
      if (p.kind === 'passthrough') return startHttpScript(p.label, 'bench/lib/passthrough-relay.ts', { HOST: t.bind, UPSTREAM: processorUrl }, t.router).then((r) => ({ ...r, env: {} }));
      const env: Record<string, string> = {
        HOST: t.bind,
        // `default` leaves the mode to the router, as `make up` does
        ...(transferModeOf(p.kind) ? { TRANSFER_MODE: transferModeOf(p.kind)! } : {}),
        PROCESSOR_ADDR: `${t.processorIp}:${processor.grpcPort}`,
        PROCESSOR_HTTP_URL: processorUrl,
        MAX_FILE_SIZE: String(options.maxBytes),
        SHUTDOWN_GRACE_MS: '1000',
        ...storeOf(p),
        ...p.env,
      };
      return startRouter(p.label, env, t.router).then((r) => ({ ...r, env }));
    }),
    services,
  );
  const contenders = plans.map((p): Contender => {
    if (p.kind === 'floor') return { ...p, url: `${processorUrl}/v1/jobs`, base: processorUrl, fileField: 'file' };
    const r = routers[routerPlans.indexOf(p)];
    if (HTTP_RELAY_KINDS.includes(p.kind)) {
      const base = `http://${t.routerIp}:${r.port}`;
      return { ...p, url: `${base}/v1/jobs`, base, fileField: 'file', router: r.service, routerMethod: detectMethod(r.service.pid), routerIdleKiB: readStatus(r.service.pid).rssKiB };
    }
    const base = `http://${t.routerIp}:${r.port}`;
    return { ...p, url: `${base}/protect`, base, fileField: 'image', router: r.service, routerMethod: detectMethod(r.service.pid), routerEnv: r.env, routerIdleKiB: readStatus(r.service.pid).rssKiB };
  });
  for (const c of contenders) if (c.router) options.log(`${c.label}: router pid ${c.router.pid} at ${c.base}`);
  return { topology: t, processor, processorMethod, processorUrl, store, storeEndpoint, contenders, services };
}

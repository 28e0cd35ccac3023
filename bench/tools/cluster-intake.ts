/**
 * What cluster-wait-cost.ts and cluster-wait-loss.ts share: a local three-master Redis Cluster
 * (router/test/queue/redis-cluster.ts) with the router's intake on it (intake-stack.ts), with
 * or without the intake's WAIT for a replica, and the submits they make.
 */
import { RedisTarget, parseClusterNodes } from '../../router/src/redis';
import { intakeStack } from '../../router/test/queue/intake-stack';
import { TestRedisCluster, startRedisCluster } from '../../router/test/queue/redis-cluster';

export const WAIT_MODES = ['wait', 'nowait'] as const;
export type WaitMode = (typeof WAIT_MODES)[number];

/** `wait` or `nowait`, else an error naming both. */
export function waitMode(raw: string | undefined): WaitMode {
  const mode = WAIT_MODES.find((m) => m === raw);
  if (!mode) throw new Error(`mode: ${WAIT_MODES.join(' or ')}, not ${raw === undefined ? 'nothing' : `"${raw}"`}`);
  return mode;
}

export type ClusterIntake = ReturnType<typeof intakeStack> & {
  /** A new job record, not yet submitted. */
  draft: () => ReturnType<ReturnType<typeof intakeStack>['records']['draft']>;
};

/** The intake on `target` under REDIS_PREFIX `prefix`; with `nowait` the WAIT for a replica is skipped. */
export function clusterIntake(target: RedisTarget, prefix: string, mode: WaitMode): ClusterIntake {
  const stack = intakeStack(target, prefix);
  if (mode === 'nowait') stack.dispatch.replicated = async () => true;
  return { ...stack, draft: () => stack.records.draft({ artistName: 'A' }, { kind: 'url', url: 'http://127.0.0.1/a.png' }, 0) };
}

/** Starts a cluster, runs `use` on it, and stops the cluster whatever happens. */
export async function withCluster(use: (cluster: TestRedisCluster, target: RedisTarget) => Promise<void>): Promise<void> {
  const cluster = await startRedisCluster();
  try {
    await use(cluster, { kind: 'cluster', nodes: parseClusterNodes(cluster.seeds) });
  } finally {
    await cluster.stop();
  }
}

/** Runs a tool's `main`; a failure is printed and exits 1. */
export function runTool(main: () => Promise<void>): void {
  main().catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
}

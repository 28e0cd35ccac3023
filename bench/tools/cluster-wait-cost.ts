/*
 * What the intake's WAIT for a replica costs a submit on a local three-master Redis Cluster:
 * one submit a turn (latency) and 100 a turn (throughput), with and without WAIT, alternated.
 *
 *   node_modules/.bin/tsx bench/tools/cluster-wait-cost.ts
 */
import { WAIT_MODES, clusterIntake, runTool, withCluster } from './cluster-intake';

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))];
};

runTool(() =>
  withCluster(async (_cluster, target) => {
    for (const mode of [...WAIT_MODES, ...WAIT_MODES]) {
      const stack = clusterIntake(target, `m-${mode}-${Date.now()}`, mode);
      for (let i = 0; i < 200; i++) await stack.intake.add(stack.draft()); // warm-up
      const single: number[] = [];
      for (let i = 0; i < 2000; i++) {
        const t = process.hrtime.bigint();
        await stack.intake.add(stack.draft());
        single.push(Number(process.hrtime.bigint() - t) / 1e6);
      }
      const t0 = Date.now();
      let n = 0;
      while (Date.now() - t0 < 5000) {
        await Promise.all(Array.from({ length: 100 }, () => stack.intake.add(stack.draft())));
        n += 100;
      }
      console.log(
        `${mode.padEnd(6)} one submit a turn: median ${pct(single, 0.5).toFixed(3)} ms, p99 ${pct(single, 0.99).toFixed(3)} ms; 100 a turn: ${Math.round(n / ((Date.now() - t0) / 1000))} submits/s`,
      );
      await stack.close();
    }
  }),
);

/*
 * How many acknowledged submits a Redis Cluster failover loses, with and without the intake's
 * WAIT for a replica (router/src/queue/intake.ts): 20 loops submit through the intake on a
 * local three-master cluster; the queue's master is SIGKILLed mid-stream (optionally after its
 * replica has been frozen FREEZE_MS, so that replication lags); then every acknowledged job's
 * record and queue entry are looked for.
 *
 *   node_modules/.bin/tsx bench/tools/cluster-wait-loss.ts wait|nowait [ROUNDS=3] [FREEZE_MS=0]
 */
import { openRedis } from '../../router/src/redis';
import { queuePrefix, recordsPrefix } from '../../router/src/queue/keys';
import { clusterIntake, runTool, waitMode, withCluster } from './cluster-intake';

runTool(async () => {
  const mode = waitMode(process.argv[2]);
  const rounds = Number(process.argv[3] ?? 3);
  const freezeMs = Number(process.argv[4] ?? 0);
  for (let round = 0; round < rounds; round++) {
    await withCluster(async (cluster, target) => {
      const prefix = `loss-${Date.now()}`;
      const stack = clusterIntake(target, prefix, mode);
      const acked: string[] = [];
      let failed = 0;
      let stop = false;
      const loops = Array.from({ length: 20 }, async () => {
        while (!stop) {
          const job = stack.draft();
          try {
            await stack.intake.add(job);
            acked.push(job.id);
          } catch {
            failed++;
            await new Promise((r) => setTimeout(r, 20));
          }
        }
      });
      await new Promise((r) => setTimeout(r, 1000));
      const { replicas } = await cluster.ownersOf(queuePrefix(prefix));
      let ackedWhileFrozen = 0;
      if (freezeMs > 0) {
        // the replica stops reading: what the master acknowledges meanwhile waits in buffers
        const before = acked.length;
        cluster.signal(replicas[0], 'SIGSTOP');
        await new Promise((r) => setTimeout(r, freezeMs));
        ackedWhileFrozen = acked.length - before;
        setTimeout(() => cluster.signal(replicas[0], 'SIGCONT'), 300);
      }
      const ackedBeforeKill = acked.length;
      await cluster.killMasterOf(queuePrefix(prefix));
      await new Promise((r) => setTimeout(r, 500));
      stop = true;
      await Promise.all(loops);
      const check = openRedis(target);
      let lost = 0;
      for (const id of acked) {
        const [rec, entry] = await Promise.all([check.exists(`${recordsPrefix(prefix)}job:${id}`), check.exists(`${queuePrefix(prefix)}:dispatch:${id}`)]);
        if (!rec || !entry) lost++;
      }
      check.disconnect();
      console.log(
        `${mode} round ${round + 1}: ${acked.length} acknowledged (${ackedBeforeKill} before the kill, ${ackedWhileFrozen} while the replica was frozen), ${failed} refused, ${lost} acknowledged but missing after the failover`,
      );
      await stack.close();
    });
  }
});

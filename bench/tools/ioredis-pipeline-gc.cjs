/*
 * The reproduction behind patches/ioredis+6.0.0.patch: young-generation GC cost of MULTI
 * transactions with ioredis as published and with the patch, alternated in one run.
 *
 *   mkdir /tmp/ioredis-published && cd /tmp/ioredis-published && npm pack ioredis@6.0.0 && tar xzf ioredis-6.0.0.tgz
 *   ln -s "$OLDPWD/node_modules" node_modules   # the published package's dependencies
 *   cd - && node bench/tools/ioredis-pipeline-gc.cjs /tmp/ioredis-published/package node_modules/ioredis
 *
 * Each contender runs in a child process of its own: TRANSACTIONS MULTIs (a SET of 1 KiB and
 * a GET, IN_FLIGHT at a time) against Redis at REDIS_URL (default 127.0.0.1:6379), after a
 * warm-up, and reports the scavenges' count and total time, the mark-compact GCs, and the
 * transactions a second.
 */
const { execFileSync } = require('node:child_process');
const path = require('node:path');

const TRANSACTIONS = Number(process.env.TRANSACTIONS ?? 100_000);
const IN_FLIGHT = Number(process.env.IN_FLIGHT ?? 64);
const ROUNDS = Number(process.env.ROUNDS ?? 3);

async function child(modulePath) {
  const { Redis } = require(modulePath);
  const { PerformanceObserver, constants } = require('node:perf_hooks');
  const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  const value = 'x'.repeat(1024);
  const key = `ioredis-gc-probe:${process.pid}`;
  const run = async (n) => {
    let next = 0;
    await Promise.all(
      Array.from({ length: IN_FLIGHT }, async () => {
        while (next++ < n) await redis.multi().set(key, value).get(key).exec();
      }),
    );
  };
  await run(5000);
  const gc = { minor: { n: 0, ms: 0 }, major: { n: 0, ms: 0 } };
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = e.detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR ? 'minor' : e.detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR ? 'major' : undefined;
      if (kind) {
        gc[kind].n++;
        gc[kind].ms += e.duration;
      }
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  const started = process.hrtime.bigint();
  await run(TRANSACTIONS);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await new Promise((resolve) => setImmediate(resolve));
  observer.disconnect();
  await redis.del(key);
  redis.disconnect();
  process.stdout.write(
    JSON.stringify({ perSecond: Math.round(TRANSACTIONS / seconds), scavenges: gc.minor.n, scavengeMs: Math.round(gc.minor.ms), markCompacts: gc.major.n, markCompactMs: Math.round(gc.major.ms) }),
  );
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

if (process.argv[2] === '--child') {
  child(process.argv[3]).catch((err) => {
    console.error(err);
    process.exit(1);
  });
} else {
  const contenders = process.argv.slice(2).map((p) => path.resolve(p));
  if (contenders.length < 2) throw new Error('usage: ioredis-pipeline-gc.cjs <ioredis as published> <ioredis patched>');
  const results = new Map(contenders.map((c) => [c, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const c of round % 2 === 0 ? contenders : [...contenders].reverse()) {
      const out = JSON.parse(execFileSync(process.execPath, [path.join(__dirname, path.basename(process.argv[1])), '--child', c], { encoding: 'utf8' }));
      results.get(c).push(out);
      console.log(`round ${round + 1} ${c}: ${JSON.stringify(out)}`);
    }
  }
  for (const [c, rs] of results) {
    const m = (k) => median(rs.map((r) => r[k]));
    console.log(
      `median of ${ROUNDS}, ${c}: ${m('perSecond')} MULTI/s, ${m('scavenges')} scavenges taking ${m('scavengeMs')} ms, ${m('markCompacts')} mark-compacts taking ${m('markCompactMs')} ms (${TRANSACTIONS} MULTIs, ${IN_FLIGHT} in flight)`,
    );
  }
}

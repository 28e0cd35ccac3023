// Diagnostic preload (NODE_OPTIONS=--require): in router / processor processes, counts GC
// events by kind between SIGUSR2 signals (bench/tools/ab.ts sends them around each upload when
// AB_PROFILE=1) and appends one JSON line per window to $GC_PROBE_DIR/<pid>.gc.
const match = /router\/src|reference-processor\/src/;
if (process.argv.some((a) => match.test(a)) && !process.argv.some((a) => a.endsWith('/tsx') || a.endsWith('cli.mjs'))) {
  const { PerformanceObserver, constants } = require('node:perf_hooks');
  const fs = require('node:fs');
  const v8 = require('node:v8');
  const names = {
    [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
    [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
    [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incr',
    [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weak',
  };
  let window = null;
  new PerformanceObserver((list) => {
    if (!window) return;
    for (const e of list.getEntries()) {
      const k = names[e.detail?.kind ?? e.kind] ?? String(e.detail?.kind);
      const slot = (window.gc[k] ??= { n: 0, ms: 0 });
      slot.n++;
      slot.ms += e.duration;
    }
  }).observe({ entryTypes: ['gc'] });
  process.on('SIGUSR2', () => {
    if (!window) {
      const ns = v8.getHeapSpaceStatistics().find((x) => x.space_name === 'new_space');
      window = { gc: {}, t: Date.now(), newSpaceMiB: +(ns.space_size / 1048576).toFixed(1), extBeforeMiB: +(process.memoryUsage().external / 1048576).toFixed(1) };
      return;
    }
    const w = window;
    window = null;
    setTimeout(() => {
      const h = v8.getHeapStatistics();
      const ns = v8.getHeapSpaceStatistics().find((x) => x.space_name === 'new_space');
      const line = {
        pid: process.pid,
        argv: process.argv[1],
        ms: Date.now() - w.t,
        newSpaceMiB: [w.newSpaceMiB, +(ns.space_size / 1048576).toFixed(1)],
        extBeforeMiB: w.extBeforeMiB,
        gc: w.gc,
        heapUsedMiB: +(h.used_heap_size / 1048576).toFixed(1),
        heapTotalMiB: +(h.total_heap_size / 1048576).toFixed(1),
        externalMiB: +(process.memoryUsage().external / 1048576).toFixed(1),
        abMiB: +(process.memoryUsage().arrayBuffers / 1048576).toFixed(1),
      };
      for (const v of Object.values(line.gc)) v.ms = +v.ms.toFixed(1);
      fs.appendFileSync(`${process.env.GC_PROBE_DIR || '/tmp/prof'}/${process.pid}.gc`, JSON.stringify(line) + '\n');
    }, 0);
  });
}

// Diagnostic preload (NODE_OPTIONS=--require): in processes whose argv matches
// $CPU_PROF_MATCH (default: router|reference-processor), SIGUSR2 toggles the V8 CPU profiler;
// each stop writes $CPU_PROF_DIR/<pid>-<n>.cpuprofile. bench/tools/ab.ts sends the signals
// around each measured upload when AB_PROFILE=1.
const match = new RegExp(process.env.CPU_PROF_MATCH || 'router/src|reference-processor/src');
if (process.argv.some((a) => match.test(a)) && !process.argv.some((a) => a.endsWith('/tsx') || a.endsWith('cli.mjs'))) {
  const inspector = require('node:inspector');
  const fs = require('node:fs');
  const session = new inspector.Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: 100 });
  let on = false;
  let n = 0;
  process.on('SIGUSR2', () => {
    if (!on) {
      session.post('Profiler.start');
      on = true;
      return;
    }
    on = false;
    session.post('Profiler.stop', (err, res) => {
      if (!err) fs.writeFileSync(`${process.env.CPU_PROF_DIR || '/tmp/prof'}/${process.pid}-${++n}.cpuprofile`, JSON.stringify(res.profile));
    });
  });
}

/**
 * Transfer benchmark: how long an upload takes until the HTTP 202 (job accepted), and how
 * much the router's and processor's resident memory grows during it, for
 *   - floor:   curl straight to the processor's original HTTP API (one hop),
 *   - legacy:  router with TRANSFER_MODE=legacy (store-and-forward to the processor's HTTP API),
 *   - stream:  router with TRANSFER_MODE=stream (multipart relayed into gRPC SubmitJob) at the
 *              default UPLOAD_CHUNK_SIZE, plus stream-<chunk> routers for a chunk-size sweep.
 * One processor and one router per contender run as separate processes for the whole run;
 * contenders alternate within each round in a rotating order. See bench/lib/transfer-args.ts (--help).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig as loadRouterConfig } from '../router/src/config';
import { commandOf } from './lib/cli';
import { Options, TRANSFER_CLI, chunkLabel, transferOptions } from './lib/transfer-args';
import { curlUpload, settleJob } from './lib/client';
import { writeTestFiles } from './lib/files';
import { machineInfo } from './lib/machine';
import { CLK_TCK, MemMethod, ProcWindow, detectMethod, machineTicks } from './lib/memory';
import { Sample, findings, markdownTables, summarizeRows } from './lib/report';
import { BenchScript } from './lib/script';
import { Processor, REPO_ROOT, Service, isAlive, startProcessor, startRouter } from './lib/stack';
import { roundOrder } from './lib/stats';

interface Contender {
  label: string;
  url: string;
  /** Multipart field of the file: `image` for the router, `file` for the processor's API. */
  fileField: 'image' | 'file';
  router?: Service;
  routerMethod?: MemMethod;
  env?: Record<string, string>;
}

const script = new BenchScript('bench');
const { services, log } = script;

async function run(options: Options): Promise<void> {
  const meta = await machineInfo();
  const defaultChunk = loadRouterConfig({}).chunkBytes;
  const tempDir = script.tempDir('artorizer-bench-');
  const workDir = path.join(tempDir, 'processor-work');

  log(`writing test files (${options.sizes.join(', ')} MiB) to ${tempDir}`);
  const { files, maxBytes } = writeTestFiles(tempDir, options.sizes);

  // Which contenders run, before anything starts.
  const plan: { label: string; env?: Record<string, string> }[] = [
    { label: 'floor' },
    { label: 'legacy', env: { TRANSFER_MODE: 'legacy' } },
    { label: 'stream', env: { TRANSFER_MODE: 'stream' } },
    ...options.chunkSizes.map((bytes) => ({ label: chunkLabel(bytes), env: { TRANSFER_MODE: 'stream', UPLOAD_CHUNK_SIZE: String(bytes) } })),
  ];
  const unknown = (options.contenders ?? []).filter((c) => !plan.some((p) => p.label === c));
  if (unknown.length) throw new Error(`unknown contender(s) ${unknown.join(', ')}; available: ${plan.map((p) => p.label).join(', ')}`);
  // --contenders also sets the base order (warm-up order, first row of the rounds)
  const chosen = options.contenders ? options.contenders.map((label) => plan.find((p) => p.label === label)!) : plan;

  log('starting the processor');
  const processor: Processor = await startProcessor({
    WORK_DIR: workDir,
    MAX_FILE_SIZE: String(maxBytes),
    PROCESSOR_CONCURRENCY: '16',
    SHUTDOWN_GRACE_MS: '0',
  });
  services.push(processor.service);
  const processorUrl = `http://127.0.0.1:${processor.httpPort}`;
  const methodFor = (pid: number): MemMethod => (options.forceSampling ? 'sampling-5ms' : detectMethod(pid));
  const processorMethod = methodFor(processor.service.pid);
  log(`processor pid ${processor.service.pid} (launcher ${processor.service.launcherPid}), gRPC ${processor.grpcPort}, HTTP ${processor.httpPort}, memory via ${processorMethod}`);

  const contenders: Contender[] = [];
  const routerPlans = chosen.filter((p) => p.label !== 'floor');
  const started = await Promise.all(
    routerPlans.map((p) =>
      startRouter(p.label, {
        ...p.env,
        PROCESSOR_ADDR: `127.0.0.1:${processor.grpcPort}`,
        PROCESSOR_HTTP_URL: processorUrl,
        MAX_FILE_SIZE: String(maxBytes),
        SHUTDOWN_GRACE_MS: '1000',
      }).then((r) => {
        services.push(r.service);
        return r;
      }),
    ),
  );
  for (const p of chosen) {
    if (p.label === 'floor') {
      contenders.push({ label: 'floor', url: `${processorUrl}/v1/jobs`, fileField: 'file' });
      continue;
    }
    const { service, port } = started[routerPlans.indexOf(p)];
    const routerMethod = methodFor(service.pid);
    contenders.push({ label: p.label, url: `http://127.0.0.1:${port}/protect`, fileField: 'image', router: service, routerMethod, env: p.env });
    log(`${p.label}: router pid ${service.pid} (launcher ${service.launcherPid}) on port ${port}, memory via ${routerMethod}`);
  }
  if (contenders.length === 0) throw new Error('no contenders left');

  const samples: Sample[] = [];
  const uploadOnce = async (c: Contender, sizeMiB: number, phase: Sample['phase'], round: number, position: number): Promise<Sample> => {
    const file = files.get(sizeMiB)!;
    script.check();
    for (const s of services) if (!isAlive(s)) throw new Error(`${s.label} (pid ${s.pid}) died; its last lines:\n${s.logLines.slice(-20).join('\n')}`);
    const routerWindow = c.router ? new ProcWindow(c.router.pid, c.routerMethod!) : undefined;
    const processorWindow = new ProcWindow(processor.service.pid, processorMethod);
    const machineBefore = machineTicks();
    const selfBefore = process.cpuUsage();
    const result = await curlUpload(c.url, c.fileField, file);
    const self = process.cpuUsage(selfBefore);
    const machineAfter = machineTicks();
    const router = routerWindow?.close();
    const proc = processorWindow.close();
    const tickMs = 1000 / CLK_TCK;
    const machineBusyMs = (machineAfter.busy - machineBefore.busy) * tickMs;
    const machineTotalMs = (machineAfter.total - machineBefore.total) * tickMs;
    const benchMs = (self.user + self.system) / 1000;
    const otherMs = Math.max(0, machineBusyMs - (router?.cpuMs ?? 0) - proc.cpuMs - benchMs);
    const cpu = { machineBusyMs, machineTotalMs, benchMs, otherMs, otherShare: machineTotalMs > 0 ? otherMs / machineTotalMs : Number.NaN };
    if (result.status !== 202) throw new Error(`${c.label} ${sizeMiB} MiB: HTTP ${result.status}, expected 202: ${result.body}`);
    let jobId: string | undefined;
    try {
      const body = JSON.parse(result.body) as { job_id?: unknown };
      if (typeof body.job_id === 'string') jobId = body.job_id;
    } catch {
      // no JSON body: nothing to settle
    }
    const job = options.settle && jobId ? await settleJob(processorUrl, jobId) : undefined;
    const sample: Sample = {
      phase,
      round,
      position,
      sizeMiB,
      fileBytes: fs.statSync(file).size,
      contender: c.label,
      status: result.status,
      timeMs: result.timeMs,
      bytesSent: result.bytesSent,
      jobId,
      job,
      router,
      processor: proc,
      cpu,
      loadavg1: os.loadavg()[0],
      at: new Date().toISOString(),
    };
    samples.push(sample);
    return sample;
  };

  log(`warm-up: one upload per contender and size (${contenders.map((c) => c.label).join(', ')})`);
  for (const size of options.sizes) {
    for (const [i, c] of contenders.entries()) await uploadOnce(c, size, 'warmup', 0, i);
  }
  for (let round = 1; round <= options.runs; round++) {
    for (const size of options.sizes) {
      const order = roundOrder(contenders, round - 1);
      for (const [i, c] of order.entries()) {
        const s = await uploadOnce(c, size, 'measured', round, i);
        log(`round ${round}/${options.runs} ${size} MiB ${c.label}: ${s.timeMs.toFixed(1)} ms`);
      }
    }
  }

  const labels = contenders.map((c) => c.label);
  const rows = summarizeRows(samples, options.sizes, labels);
  const jobOutcomes = new Map<string, number>();
  for (const s of samples) {
    const key = s.job ? `${s.job.status}${s.job.reason ? ` (${s.job.reason})` : ''}` : 'not waited for';
    jobOutcomes.set(key, (jobOutcomes.get(key) ?? 0) + 1);
  }
  const methods = [...new Set([processorMethod, ...contenders.flatMap((c) => (c.routerMethod ? [c.routerMethod] : []))])];
  const serviceLogs = services.map((s) => ({ label: s.label, lines: s.logLines.length }));
  const notes = [
    `Test files: the 8-byte PNG signature followed by random bytes (sizes in MiB = 2^20 bytes). The router's sniffing of the first 16 bytes accepts them and so does the processor's upload path; every job then fails as an undecodable image. Only the upload until the HTTP 202 is timed, not processing.`,
    `Client: curl ${'-F artist_name -F artwork_title -F image=@file'} (metadata fields before the file, so the stream router opens SubmitJob at once), one curl process per upload; time = curl %{time_total}. The floor posts field "file" straight to the processor's POST /v1/jobs.`,
    `Each contender is a separate router process on its own port; one processor serves them all. Each round shifts the contender order (rows of a balanced Latin square, so every contender follows every other equally often over a full cycle of rounds); ${options.runs} measured round(s) after one warm-up per contender and size.${options.settle ? ' After each upload the benchmark waits (outside the timing) until the processor has finished the job.' : ''}`,
    `Peak RSS growth = peak resident memory during the upload minus RSS just before it, of the node process that serves (not the tsx launcher); method: ${methods.join(', ')}${methods.includes('clear_refs') ? ' (clear_refs "5" resets VmHWM before, VmHWM read after)' : ''}.`,
    `Growth counts only pages the upload made newly resident: memory a process freed earlier but kept (V8 heap, malloc arenas) is reused without growing RSS. Sizes are interleaved within each round, so a small upload often runs in a process that already held a larger one and shows little growth; "router peak RSS" is the absolute high-water mark during the upload.`,
    `Others' CPU = machine-wide busy CPU time during the upload (/proc/stat, steal included) minus the router's, the processor's and the benchmark's own, as a share of all ${os.cpus().length} cores over the upload: how much the rest of the machine (curl included) was competing. 10 ms tick resolution: rough for short uploads.`,
    `CPU ms = user + system time the router / processor process used during the upload (/proc/<pid>/stat, 10 ms ticks); less sensitive to a busy machine than the wall time.`,
    `Router read / written = /proc/<pid>/io rchar / wchar deltas of the router: bytes from curl plus the processor's answer / bytes to the processor plus the answer to curl. In brackets, what goes beyond the file: multipart and HTTP/2 + gRPC framing, flow-control frames (WINDOW_UPDATE) and the answers; many small HTTP/2 frames show up here.`,
    options.chunkSizes.includes(defaultChunk) && labels.includes('stream') && labels.includes(chunkLabel(defaultChunk))
      ? `"stream" and "${chunkLabel(defaultChunk)}" are the same configuration (the default UPLOAD_CHUNK_SIZE is ${defaultChunk}) in two processes: their difference is a measure of the noise.`
      : '',
    `Services run with LOG_LEVEL=warn. Their "listening" lines are info-level, so readiness comes from bench/lib/listen-probe.cjs (preloaded with NODE_OPTIONS=--require), which prints one JSON line per listening TCP server with its pid and port.`,
    `Job outcomes: ${[...jobOutcomes].map(([k, n]) => `${n} ${k}`).join(', ')}.`,
    `Log lines at warn or above during the run: ${serviceLogs.map((s) => `${s.label} ${s.lines}`).join(', ')}.`,
  ].filter(Boolean);

  meta.loadavgAtEnd = os.loadavg();
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const resultsDir = path.join(__dirname, 'results');
  fs.mkdirSync(resultsDir, { recursive: true });
  const record = {
    benchmark: 'transfer',
    command: commandOf(TRANSFER_CLI),
    machine: meta,
    options,
    processor: {
      pid: processor.service.pid,
      launcherPid: processor.service.launcherPid,
      command: processor.service.command,
      grpcPort: processor.grpcPort,
      httpPort: processor.httpPort,
      memoryMethod: processorMethod,
    },
    contenders: contenders.map((c) => ({ label: c.label, url: c.url, env: c.env, pid: c.router?.pid, launcherPid: c.router?.launcherPid, command: c.router?.command, memoryMethod: c.routerMethod })),
    notes,
    summary: rows,
    serviceLogLines: services.map((s) => ({ label: s.label, lines: s.logLines })),
    samples,
  };
  const file = path.join(resultsDir, `transfer-${stamp}.json`);
  fs.writeFileSync(file, JSON.stringify(record, null, 2) + '\n');
  fs.copyFileSync(file, path.join(resultsDir, 'latest-transfer.json'));

  const computed = findings(rows, options.sizes, options.chunkSizes.includes(defaultChunk) ? chunkLabel(defaultChunk) : undefined);
  const loads = (l: number[]) => l.map((x) => x.toFixed(2)).join(' ');
  const cpuLine = `${meta.cpuModel}, ${meta.cpuCount} cores, ${(meta.totalMemoryBytes / 1024 ** 3).toFixed(1)} GiB RAM, Node ${meta.node}, ${meta.platform}, ${meta.curl}`;
  const out = [
    `## Transfer benchmark (${meta.date})`,
    '',
    `\`${record.command}\``,
    '',
    `${cpuLine}; git ${meta.gitCommit.slice(0, 12)}${meta.gitDirty ? ' (dirty)' : ''}; load average (1/5/15 min) at start ${loads(meta.loadavgAtStart)}, at end ${loads(meta.loadavgAtEnd)}`,
    '',
    markdownTables(rows, options.sizes),
    ...(computed.length ? ['Computed comparisons:', '', ...computed, ''] : []),
    'Notes:',
    '',
    ...notes.map((n) => `- ${n}`),
    '',
    `Raw samples: ${path.relative(REPO_ROOT, file)} (also bench/results/latest-transfer.json)`,
  ];
  process.stdout.write(out.join('\n') + '\n');
}

script.main(TRANSFER_CLI, transferOptions, run);

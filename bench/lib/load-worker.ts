/**
 * The API benchmark's load generator, a process of its own so that it does not share the
 * benchmark's event loop (on a 2-core machine it still shares the cores with the server).
 * Reads one LoadJob per line (JSON) on stdin, writes `START <id>` when the load begins and
 * `RESULT <json>` when it ends; exits when stdin closes.
 */
import readline from 'node:readline';
import autocannon from 'autocannon';
import { LoadJob, LoadResult, idVariation } from './load-types';
import { paced } from './pacer';

function write(line: string): void {
  process.stdout.write(`${line}\n`);
}

function cpuMs(since: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1000;
}

/** autocannon's per-request hook: the body with the next id of its sequence (see LoadRequest.idSequence). */
function variedBody(job: LoadJob) {
  const next = idVariation(job.request, Buffer.from(job.request.bodyBase64 ?? '', 'base64'))!;
  return <R extends { body?: unknown }>(request: R): R => ({ ...request, body: next() });
}

async function withAutocannon(job: LoadJob): Promise<LoadResult> {
  const cpu = process.cpuUsage();
  write(`START ${job.id}`);
  const r = await autocannon({
    // autocannon takes an array of URLs (connection i goes to url i mod n); its types say string
    url: (job.request.moreUrls?.length ? [job.request.url, ...job.request.moreUrls] : job.request.url) as string,
    method: job.request.method,
    headers: job.request.headers,
    body: job.request.bodyBase64 ? Buffer.from(job.request.bodyBase64, 'base64') : undefined,
    requests: job.request.idSequence ? [{ setupRequest: variedBody(job) }] : undefined,
    connections: job.connections,
    duration: job.durationSec,
    overallRate: job.kind === 'rate' ? job.rate : undefined,
    // autocannon 9 corrects for coordinated omission with an expected interval of
    // ceil(1 / per-connection rate) = 1 ms whatever the rate, adding a synthetic sample per
    // millisecond of each latency: off, the raw latencies are recorded.
    ignoreCoordinatedOmission: job.kind === 'rate' ? true : undefined,
  });
  const statusCodes: Record<string, number> = {};
  for (const [code, stat] of Object.entries(r.statusCodeStats ?? {})) statusCodes[code] = stat.count ?? 0;
  const ok2xx = r['2xx'];
  return {
    id: job.id,
    kind: job.kind,
    connections: job.connections,
    durationSec: r.duration,
    targetRate: job.rate,
    responses: ok2xx + r.non2xx,
    ok2xx,
    non2xx: r.non2xx,
    errors: r.errors,
    timeouts: r.timeouts,
    rate: ok2xx / r.duration,
    latency: { p50: r.latency.p50, p90: r.latency.p90, p99: r.latency.p99, max: r.latency.max, mean: r.latency.mean },
    generatorCpuMs: cpuMs(cpu),
    statusCodes,
  };
}

async function main(): Promise<void> {
  const lines = readline.createInterface({ input: process.stdin });
  for await (const line of lines) {
    if (!line.trim()) continue;
    const job = JSON.parse(line) as LoadJob;
    const result = job.kind === 'paced' ? await paced(job, () => write(`START ${job.id}`), cpuMs) : await withAutocannon(job);
    write(`RESULT ${JSON.stringify(result)}`);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`load worker failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});

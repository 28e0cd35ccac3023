/**
 * Time to the 202 of one upload, from a client inside this process, against services already
 * running (started by hand, e.g. `make processor` and `make router`, or a second checkout on
 * other ports). Each upload opens a new connection, as curl does, but no process is spawned
 * per upload, so differences of half a millisecond between two routers show; the targets take
 * turns (the order reverses every round) and idle `--gap-ms` before each upload:
 *
 *   node_modules/.bin/tsx bench/tools/latency.ts --sizes 0.01,1 --rounds 200 \
 *     --targets http://127.0.0.1:7001/protect,http://127.0.0.1:7000/protect,http://127.0.0.1:8000/v1/jobs#file
 *
 * A target is a URL that answers a multipart POST with 202; `#name` names its file field
 * (default `image`; the processor's own POST /v1/jobs takes `file`). Fields go before the file,
 * and bodies over 1 MiB wait for `100 Continue` as curl's do.
 */
import http from 'node:http';
import { multipartBody } from '../lib/api';
import { commandLine, count, nameList, positive, sizesFlag, sizesMiB } from '../lib/cli';
import { writeTestFile } from '../lib/files';
import { BenchScript } from '../lib/script';
import { fixed, median, percentile, ratio } from '../lib/stats';

const LATENCY_CLI = commandLine({
  script: 'bench/tools/latency.ts',
  about: 'Time to the 202 from an in-process client (a new connection per upload, no process spawned), targets taking turns.',
  flags: {
    targets: { kind: 'value', sample: 'url[#field],...', help: 'upload URLs, the first is the reference of the ratios;\n#field names the file field (default image)' },
    sizes: sizesFlag('0.01,1'),
    rounds: { kind: 'value', sample: '200', help: 'measured uploads per target and size, after 2 warm-up rounds (default 200)' },
    'gap-ms': { kind: 'value', sample: '20', help: 'idle time before each upload (default 20)' },
  },
});

/** curl waits for `100 Continue` above this body size. */
const EXPECT_ABOVE = 1024 * 1024;
const WARM_UP_ROUNDS = 2;

interface Target {
  url: string;
  field: string;
}

type Body = ReturnType<typeof multipartBody>;

function parseTarget(raw: string): Target {
  const [url, field = 'image'] = raw.split('#');
  if (!/^https?:\/\//.test(url)) throw new Error(`--targets: not an http URL: "${raw}"`);
  return { url, field };
}

/** One upload on a new connection: milliseconds from the request to the end of a 202. */
function upload(url: string, { body, contentType }: Body): Promise<number> {
  const expect = body.length > EXPECT_ABOVE;
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const req = http.request(url, {
      method: 'POST',
      agent: false,
      headers: { 'content-type': contentType, 'content-length': body.length, ...(expect ? { expect: '100-continue' } : {}) },
    });
    req.on('response', (res) => {
      const answer: Buffer[] = [];
      res.on('data', (chunk: Buffer) => answer.push(chunk));
      res.on('end', () => {
        if (res.statusCode === 202) resolve(Number(process.hrtime.bigint() - started) / 1e6);
        else reject(new Error(`${url} answered ${res.statusCode}: ${Buffer.concat(answer).toString().slice(0, 300)}`));
      });
    });
    req.on('error', reject);
    if (expect) req.on('continue', () => req.end(body));
    else req.end(body);
  });
}

const script = new BenchScript('latency');

async function run(options: { targets: Target[]; sizes: number[]; rounds: number; gapMs: number }): Promise<void> {
  const dir = script.tempDir('artorizer-latency-');
  const lines: string[] = [];
  for (const size of options.sizes) {
    const file = writeTestFile(dir, size);
    const bodies = options.targets.map((t) => multipartBody(file, t.field));
    const times = options.targets.map((): number[] => []);
    for (let round = 0; round < options.rounds + WARM_UP_ROUNDS; round++) {
      script.check();
      const order = options.targets.map((_, i) => i);
      if (round % 2 === 1) order.reverse();
      for (const i of order) {
        await new Promise((resolve) => setTimeout(resolve, options.gapMs));
        const ms = await upload(options.targets[i].url, bodies[i]);
        if (round >= WARM_UP_ROUNDS) times[i].push(ms);
      }
    }
    const reference = median(times[0]);
    lines.push('', `### ${size} MiB, ${options.rounds} uploads per target`, '', '| target | median ms | p25 | p75 | × first |', '|---|---|---|---|---|');
    options.targets.forEach((t, i) => {
      const m = median(times[i]);
      lines.push(`| ${t.url}${t.field === 'image' ? '' : `#${t.field}`} | ${fixed(m, 2)} | ${fixed(percentile(times[i], 25), 2)} | ${fixed(percentile(times[i], 75), 2)} | ${ratio(m, reference)} |`);
    });
  }
  process.stdout.write(lines.join('\n') + '\n');
}

script.main(
  LATENCY_CLI,
  (flags) => {
    const targets = nameList(flags.targets ?? '').map(parseTarget);
    if (targets.length === 0) throw new Error('--targets: at least one URL');
    return {
      targets,
      sizes: sizesMiB(flags.sizes ?? '0.01,1', 'sizes'),
      rounds: count(flags.rounds, 200, 'rounds'),
      gapMs: positive(flags['gap-ms'], 20, 'gap-ms'),
    };
  },
  run,
);

import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { startHttpFixture, HttpFixture } from './http-fixture';
import { makePng, sha256 } from './images';
import { ContractTarget } from './target';

const run = promisify(execFile);
const BUF = path.resolve(__dirname, '../../node_modules/.bin/buf');
const SERVICE = 'artorizer.v1.ProcessorService';

/** Runs `buf curl` with the request body on stdin (`-d @-`), as large bodies need. */
async function bufCurl(address: string, method: string, body: string): Promise<unknown[]> {
  const args = ['curl', '--protocol', 'grpc', '--http2-prior-knowledge', '-d', '@-', `http://${address}/${method}`];
  const pending = run(BUF, args, { maxBuffer: 64 * 1024 * 1024 });
  pending.child.stdin!.end(body);
  const { stdout } = await pending;
  return parseJsonStream(stdout);
}

/** buf curl prints one pretty JSON document per response message. */
function parseJsonStream(text: string): unknown[] {
  const docs: unknown[] = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{') {
      if (depth++ === 0) start = i;
    } else if (c === '}' && --depth === 0) docs.push(JSON.parse(text.slice(start, i + 1)));
  }
  return docs;
}

async function bufCurlError(address: string, method: string, body: string): Promise<string> {
  try {
    await bufCurl(address, method, body);
  } catch (err) {
    return String((err as { stderr?: string }).stderr ?? err);
  }
  throw new Error(`buf curl ${method} succeeded; an error was expected`);
}

const spec = {
  metadata: { artistName: 'Curl Artist', artworkTitle: 'Reflected' },
  protection: { includeProtection: true, layers: ['PROTECTION_LAYER_INVISIBLE_WATERMARK'], watermark: { text: 'via-buf-curl' } },
};

/**
 * Drives the processor `start` resolves with through `buf curl` and server reflection only: no
 * .proto file, no generated code. This is what an operator debugging a processor has. Call it
 * at the top level of a test file, like `describeProcessorContract`.
 */
export function describeBufCurlContract(start: () => Promise<ContractTarget>): void {
  let target: ContractTarget;
  let fixture: HttpFixture;
  let png: Buffer;

  beforeAll(async () => {
    target = await start();
    png = await makePng(320, 240, 5);
    fixture = await startHttpFixture({ 'art.png': png });
  });

  afterAll(async () => {
    await fixture.close();
    await target.stop();
  });

  it('lists every RPC of the service and the health service through reflection', async () => {
    const { stdout } = await run(BUF, ['curl', '--protocol', 'grpc', '--http2-prior-knowledge', '--list-methods', `http://${target.address}`]);
    for (const rpc of ['SubmitJob', 'SubmitJobByReference', 'GetJob', 'WatchJob', 'GetJobResult', 'CancelJob', 'DownloadArtifact']) {
      expect(stdout).toContain(`${SERVICE}/${rpc}`);
    }
    expect(stdout).toContain('grpc.health.v1.Health/Check');
    const [health] = await bufCurl(target.address, 'grpc.health.v1.Health/Check', `{"service":"${SERVICE}"}`);
    expect(health).toEqual({ status: 'SERVING' });
  });

  it('calls every RPC with JSON bodies, well-known types included', async () => {
    // Client streaming: the spec, then the image as base64 chunks.
    const half = Math.ceil(png.length / 2);
    const messages = [{ spec }, { chunk: png.subarray(0, half).toString('base64') }, { chunk: png.subarray(half).toString('base64') }];
    const [submitted] = (await bufCurl(target.address, `${SERVICE}/SubmitJob`, messages.map((m) => JSON.stringify(m)).join('\n'))) as { job: { jobId: string; state: string; createdAt: string } }[];
    expect(submitted.job.state).toBe('JOB_STATE_QUEUED');
    expect(new Date(submitted.job.createdAt).getTime()).toBeGreaterThan(0);
    const jobId = submitted.job.jobId;

    const events = (await bufCurl(target.address, `${SERVICE}/WatchJob`, JSON.stringify({ jobId }))) as { terminal?: boolean; job: { state: string } }[];
    expect(events[events.length - 1]).toMatchObject({ terminal: true, job: { state: 'JOB_STATE_COMPLETED' } });

    const [status] = (await bufCurl(target.address, `${SERVICE}/GetJob`, JSON.stringify({ jobId }))) as { job: { state: string } }[];
    expect(status.job.state).toBe('JOB_STATE_COMPLETED');

    const [result] = (await bufCurl(target.address, `${SERVICE}/GetJobResult`, JSON.stringify({ jobId }))) as { result: { verifiedWatermarkText: string; analysis: { image: { sha256: string } } } }[];
    expect(result.result.verifiedWatermarkText).toBe('via-buf-curl');
    expect(result.result.analysis.image.sha256).toBe(sha256(png));

    const download = (await bufCurl(target.address, `${SERVICE}/DownloadArtifact`, JSON.stringify({ jobId, variant: 'original' }))) as { info?: { sizeBytes: string }; chunk?: string }[];
    expect(download[0].info?.sizeBytes).toBe(String(png.length));
    const bytes = Buffer.concat(download.slice(1).map((m) => Buffer.from(m.chunk ?? '', 'base64')));
    expect(bytes.equals(png)).toBe(true);

    const stall = fixture.nextStall();
    const [byRef] = (await bufCurl(target.address, `${SERVICE}/SubmitJobByReference`, JSON.stringify({ spec, reference: { http: { url: fixture.url('stall') } } }))) as { job: { jobId: string } }[];
    await stall;
    const [cancelled] = (await bufCurl(target.address, `${SERVICE}/CancelJob`, JSON.stringify({ jobId: byRef.job.jobId }))) as { job: { state: string } }[];
    expect(cancelled.job.state).toBe('JOB_STATE_CANCELLED');
  });

  it('shows gRPC errors with their code and message', async () => {
    expect(await bufCurlError(target.address, `${SERVICE}/GetJob`, '{"jobId":"missing"}')).toMatch(/"code": "not_found"[\s\S]*missing[\s\S]*not found/);
  });
}

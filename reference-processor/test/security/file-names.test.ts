import { JobSpec, JobState } from '@artorizer/contract';
import { ContractClient, makePng, specFor, startHttpFixture } from '@artorizer/testkit';
import { Target, startTarget } from '../contract/target';
import { multipartBody, postJobs } from './multipart';

/*
 * A client's file name is cleaned before the processor records it (the job's spec) or echoes
 * it (the HTTP API's download of the original): no control or format characters, no path, at
 * most 255 bytes with its extension kept.
 */
let target: Target;
let client: ContractClient;
let httpUrl: string;
let png: Buffer;

beforeAll(async () => {
  target = await startTarget();
  client = new ContractClient(target.address);
  httpUrl = `http://127.0.0.1:${target.local!.httpPort}`;
  png = await makePng(64, 48);
});

afterAll(async () => {
  client.close();
  await target.stop();
});

const HOSTILE = '../../etc/pa\u0000ss\u0007wd\r\n\u202e.png';
const LONG = `${'x'.repeat(10_000)}.png`;
const CLEAN_LONG = `${'x'.repeat(251)}.png`;

function named(filename: string): JobSpec {
  const spec = specFor();
  spec.image = { contentType: 'image/png', sizeBytes: 0, sha256: '', filename };
  return spec;
}

async function originalDisposition(jobId: string): Promise<string | null> {
  expect((await client.waitForEnd(jobId)).state).toBe(JobState.JOB_STATE_COMPLETED);
  const res = await fetch(`${httpUrl}/v1/jobs/${jobId}/download/original`);
  expect(res.status).toBe(200);
  return res.headers.get('content-disposition');
}

const recorded = (jobId: string) => target.local!.processor.jobs.get(jobId).spec.image?.filename;

it('cleans spec.image.filename of a gRPC upload and of a reference before recording or echoing it', async () => {
  const hostile = await client.submit(named(HOSTILE), png);
  expect(recorded(hostile.jobId)).toBe('passwd.png');
  expect(await originalDisposition(hostile.jobId)).toBe(`attachment; filename="passwd.png"; filename*=UTF-8''passwd.png`);

  const fixture = await startHttpFixture({ 'art.png': png });
  try {
    const referenced = await client.submitByReference(named(HOSTILE), { location: { $case: 'http', http: { url: fixture.url('art.png') } } });
    expect(recorded(referenced.jobId)).toBe('passwd.png');
    expect(await originalDisposition(referenced.jobId)).toBe(`attachment; filename="passwd.png"; filename*=UTF-8''passwd.png`);
  } finally {
    await fixture.close();
  }

  const long = await client.submit(named(LONG), png);
  expect(recorded(long.jobId)).toBe(CLEAN_LONG);
  expect(await originalDisposition(long.jobId)).toBe(`attachment; filename="${CLEAN_LONG}"; filename*=UTF-8''${CLEAN_LONG}`);
});

it('cleans the multipart file name on the HTTP API, plain or RFC 5987 encoded', async () => {
  const meta = [
    { name: 'artist_name', value: 'Jane' },
    { name: 'artwork_title', value: 'Names' },
  ];
  const cases = [
    { disposition: `name="file"; filename*=UTF-8''..%2F..%2Fetc%2Fpa%00ss%07wd%0D%0A%E2%80%AE.png`, clean: 'passwd.png' },
    { disposition: `name="file"; filename="C:\\\\Users\\\\x\\\\pa\tss wd.png"`, clean: 'pass wd.png' },
    { disposition: `name="file"; filename="${LONG}"`, clean: CLEAN_LONG },
  ];
  for (const { disposition, clean } of cases) {
    const res = await postJobs(httpUrl, multipartBody([...meta, { name: 'file', filename: '', contentType: 'image/png', data: png, disposition }]));
    expect(res.status).toBe(202);
    const { job_id } = (await res.json()) as { job_id: string };
    expect(recorded(job_id)).toBe(clean);
    expect(await originalDisposition(job_id)).toBe(`attachment; filename="${clean}"; filename*=UTF-8''${encodeURIComponent(clean)}`);
  }
});

it('names a download after the artifact when the client gave no usable name', async () => {
  const job = await client.submit(named('/../\u0001'), png);
  expect(recorded(job.jobId)).toBe('');
  expect(await originalDisposition(job.jobId)).toBe(`attachment; filename="original"; filename*=UTF-8''original`);
  const analysis = await fetch(`${httpUrl}/v1/jobs/${job.jobId}/download/analysis`);
  expect(analysis.headers.get('content-disposition')).toBe(`attachment; filename="analysis.json"; filename*=UTF-8''analysis.json`);
  expect(analysis.headers.get('x-content-type-options')).toBe('nosniff');
  expect(analysis.headers.get('content-security-policy')).toBe("default-src 'none'; sandbox");
});

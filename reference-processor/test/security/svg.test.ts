import { once } from 'node:events';
import http from 'node:http';
import { AddressInfo } from 'node:net';
import sharp from 'sharp';
import { JobErrorReason, JobSpec, JobState } from '@artorizer/contract';
import { ContractClient, grpcError, makeJpeg, makePng, specFor, status } from '@artorizer/testkit';
import { decodeRaw } from '../../src/image/decode';
import { Target, startTarget } from '../contract/target';
import { filesUnder } from './child-processor';
import { multipartBody, postJobs } from './multipart';

/*
 * Only raster images the processor decodes get in, on every path: SVG (markup that librsvg would
 * render) is refused whatever it is declared as, and the `original` artifact's content type is
 * the one its bytes announce, never the client's.
 */
const SVG = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64"><rect width="64" height="64" fill="red"/></svg>');
const XML_SVG = Buffer.concat([Buffer.from('<?xml version="1.0" encoding="UTF-8"?>\n'), SVG]);

let target: Target;
let client: ContractClient;
let server: http.Server;
let base: string;
let httpUrl: string;

const served: Record<string, { type: string; body: Buffer }> = {
  '/svg-as-png': { type: 'image/png', body: SVG },
  '/svg': { type: 'image/svg+xml', body: SVG },
  '/xml-svg': { type: 'application/octet-stream', body: XML_SVG },
};

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const file = served[req.url ?? ''];
    if (!file) res.writeHead(404).end();
    else res.writeHead(200, { 'Content-Type': file.type, 'Content-Length': file.body.length }).end(file.body);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  target = await startTarget();
  client = new ContractClient(target.address);
  httpUrl = `http://127.0.0.1:${target.local!.httpPort}`;
});

afterAll(async () => {
  client.close();
  await target.stop();
  server.close();
});

function declared(contentType: string): JobSpec {
  const spec = specFor();
  spec.image = { contentType, sizeBytes: 0, sha256: '', filename: '' };
  return spec;
}

it('sharp here refuses SVG itself, for any path that skipped the sniffing', async () => {
  await expect(decodeRaw(SVG)).rejects.toThrow(/unsupported image format/);
  await expect(sharp(XML_SVG).metadata()).rejects.toThrow(/unsupported image format/);
});

it('fails referenced SVGs with INVALID_IMAGE, served as image/png, as image/svg+xml or as bytes, and leaves no file', async () => {
  for (const url of ['/svg-as-png', '/svg', '/xml-svg']) {
    const job = await client.submitByReference(specFor(), { location: { $case: 'http', http: { url: base + url } } });
    const end = await client.waitForEnd(job.jobId);
    expect({ url, state: end.state, reason: end.error?.reason }).toEqual({ url, state: JobState.JOB_STATE_FAILED, reason: JobErrorReason.JOB_ERROR_REASON_INVALID_IMAGE });
  }
  expect(filesUnder(target.local!.workDir)).toEqual([]);
});

it('fails an uploaded SVG with INVALID_IMAGE over gRPC, and refuses a declared SVG with INVALID_ARGUMENT before any byte is kept', async () => {
  const job = await client.submit(specFor(), SVG);
  const end = await client.waitForEnd(job.jobId);
  expect(end.error).toMatchObject({ reason: JobErrorReason.JOB_ERROR_REASON_INVALID_IMAGE, message: expect.stringMatching(/not a decodable image/) });

  const upload = await grpcError(client.submit(declared('image/svg+xml'), SVG));
  expect({ code: upload.code, details: upload.details }).toEqual({ code: status.INVALID_ARGUMENT, details: expect.stringMatching(/image\/svg\+xml.*not accepted/) });
  const byReference = await grpcError(client.submitByReference(declared('image/svg+xml; charset=utf-8'), { location: { $case: 'http', http: { url: `${base}/svg` } } }));
  expect(byReference.code).toBe(status.INVALID_ARGUMENT);
  expect(filesUnder(target.local!.workDir)).toEqual([]);
});

it('answers 415 on the HTTP API for an SVG declared as such or as a PNG, and for other non-raster bytes, and leaves no file', async () => {
  const meta = [
    { name: 'artist_name', value: 'Jane' },
    { name: 'artwork_title', value: 'Vector' },
  ];
  const bodies = [
    { contentType: 'image/svg+xml', data: SVG },
    { contentType: 'image/png', data: SVG },
    { contentType: 'application/octet-stream', data: XML_SVG },
    { contentType: 'image/png', data: Buffer.from('%PDF-1.7 not an image') },
  ];
  for (const { contentType, data } of bodies) {
    const res = await postJobs(httpUrl, multipartBody([...meta, { name: 'file', filename: 'art.png', contentType, data }]));
    expect({ contentType, status: res.status, body: await res.json() }).toEqual({
      contentType,
      status: 415,
      body: expect.objectContaining({ error: expect.stringMatching(/JPEG, PNG, GIF, WebP, TIFF, AVIF or HEIF/) }),
    });
  }
  expect(filesUnder(target.local!.workDir)).toEqual([]);
});

it('gives the original the content type its bytes announce, whatever the client declared', async () => {
  const avif = await sharp(await makePng(96, 64))
    .avif({ quality: 60 })
    .toBuffer();
  const png = await makePng(96, 64);
  for (const { data, claimed, actual } of [
    { data: png, claimed: 'image/jpeg', actual: 'image/png' },
    { data: avif, claimed: 'image/heif', actual: 'image/avif' },
  ]) {
    const job = await client.submit(declared(claimed), data);
    expect((await client.waitForEnd(job.jobId)).state).toBe(JobState.JOB_STATE_COMPLETED);
    const original = (await client.getResult(job.jobId)).result!.artifacts.find((a) => a.variant === 'original');
    expect(original?.contentType).toBe(actual);
  }

  const jpeg = await makeJpeg(96, 64);
  const res = await postJobs(
    httpUrl,
    multipartBody([
      { name: 'artist_name', value: 'Jane' },
      { name: 'artwork_title', value: 'Mislabelled' },
      { name: 'file', filename: 'art.png', contentType: 'image/png', data: jpeg },
    ]),
  );
  const { job_id } = (await res.json()) as { job_id: string };
  await client.waitForEnd(job_id);
  const download = await fetch(`${httpUrl}/v1/jobs/${job_id}/download/original`);
  expect(download.headers.get('content-type')).toBe('image/jpeg');
});

import { createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { ImageReference, JobState } from '@artorizer/contract';
import { ContractClient, grpcError, makePng, specFor, status } from '@artorizer/testkit';
import { EMBEDDED_CREDENTIALS, EmbeddedStore, startEmbeddedStore } from '../../../scripts/store/embedded-store';
import { loadConfig } from '../../src/config';
import { createS3Client } from '../../src/core/s3-client';
import { Target, startTarget } from '../contract/target';

/*
 * An S3 reference may name only an upload: the processor's own bucket, under
 * S3_REFERENCE_PREFIXES (default `uploads/`). The object is offered back as the job's
 * `original`, so any other key (another job's artifacts, anything else in the bucket, another
 * bucket) would be a read of the bucket; all get one answer, whether the object exists or not.
 */
const BUCKET = 'artorizer-refs';
const GENERIC = "reference.s3 must name an upload in this processor's bucket (S3_BUCKET, under S3_REFERENCE_PREFIXES)";
const FOREIGN_ENDPOINT = "reference.s3.endpoint must be empty or this processor's own store (S3_ENDPOINT)";

let directory: string;
let store: EmbeddedStore;
let s3: S3Client;
let png: Buffer;

beforeAll(async () => {
  directory = fs.mkdtempSync(path.join(os.tmpdir(), 'artorizer-s3-refs-'));
  store = await startEmbeddedStore({ port: 0, directory, bucket: BUCKET });
  s3 = createS3Client({ endpoint: store.endpoint, region: 'us-east-1', credentials: EMBEDDED_CREDENTIALS });
  await s3.send(new CreateBucketCommand({ Bucket: 'other-bucket' }));
  png = await makePng(64, 48);
  for (const [bucket, key] of [
    [BUCKET, 'uploads/art.png'],
    [BUCKET, 'incoming/art.png'],
    [BUCKET, 'jobs/11111111-2222-3333-4444-555555555555/protected.png'],
    [BUCKET, 'private/secret.png'],
    ['other-bucket', 'uploads/art.png'],
  ]) {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: png, ContentType: 'image/png' }));
  }
});

afterAll(async () => {
  s3.destroy();
  await store.close();
  fs.rmSync(directory, { recursive: true, force: true });
});

function storeEnv(extra: Record<string, string> = {}): Record<string, string> {
  return { S3_ENDPOINT: store.endpoint, S3_BUCKET: BUCKET, AWS_ACCESS_KEY_ID: EMBEDDED_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: EMBEDDED_CREDENTIALS.secretAccessKey, ...extra };
}

const at = (bucket: string, key: string, endpoint = ''): ImageReference => ({ location: { $case: 's3', s3: { bucket, key, endpoint, region: '' } } });

describe('S3 references', () => {
  let target: Target;
  let client: ContractClient;

  afterEach(async () => {
    client.close();
    await target.stop();
  });

  it('reads an upload in its bucket and offers it back as the original', async () => {
    target = await startTarget(storeEnv());
    client = new ContractClient(target.address);
    const job = await client.submitByReference(specFor(), at(BUCKET, 'uploads/art.png'));
    expect((await client.waitForEnd(job.jobId)).state).toBe(JobState.JOB_STATE_COMPLETED);
    const original = (await client.getResult(job.jobId)).result!.artifacts.find((a) => a.variant === 'original');
    expect(original?.location).toEqual(at(BUCKET, 'uploads/art.png'));
  });

  it('refuses every other key and bucket with INVALID_ARGUMENT and one message, whether the object exists or not', async () => {
    target = await startTarget(storeEnv());
    client = new ContractClient(target.address);
    const refused = [
      at(BUCKET, 'jobs/11111111-2222-3333-4444-555555555555/protected.png'),
      at(BUCKET, 'private/secret.png'),
      at(BUCKET, 'private/missing.png'),
      at(BUCKET, 'incoming/art.png'),
      at('other-bucket', 'uploads/art.png'),
      at(BUCKET, 'uploads/../private/secret.png'),
      at(BUCKET, 'uploads//art.png'),
      at(BUCKET, 'uploads/'),
      at(BUCKET, 'Uploads/art.png'),
    ];
    for (const reference of refused) {
      const err = await grpcError(client.submitByReference(specFor(), reference));
      expect({ reference: reference.location, code: err.code, details: err.details }).toEqual({ reference: reference.location, code: status.INVALID_ARGUMENT, details: GENERIC });
    }
    expect([...target.local!.processor.jobs.all()]).toEqual([]);
  });

  it('holds an http URL into its own store (or a redirect there) to the same prefixes', async () => {
    target = await startTarget(storeEnv());
    client = new ContractClient(target.address);
    const byUrl = (url: string): ImageReference => ({ location: { $case: 'http', http: { url } } });
    for (const url of [
      `${store.endpoint}/${BUCKET}/private/secret.png`,
      `${store.endpoint}/${BUCKET}/jobs/11111111-2222-3333-4444-555555555555/protected.png`,
      `${store.endpoint}/other-bucket/uploads/art.png`,
      `${store.endpoint}/${BUCKET}/uploads/%2E%2E/private/secret.png`,
      `${store.endpoint.replace('127.0.0.1', '[::ffff:127.0.0.1]')}/${BUCKET}/private/secret.png`,
    ]) {
      const err = await grpcError(client.submitByReference(specFor(), byUrl(url)));
      expect({ url, code: err.code, details: err.details }).toEqual({ url, code: status.INVALID_ARGUMENT, details: GENERIC });
    }
    const allowed = await client.submitByReference(specFor(), byUrl(`${store.endpoint}/${BUCKET}/uploads/art.png`));
    expect((await client.waitForEnd(allowed.jobId)).state).toBe(JobState.JOB_STATE_COMPLETED);
    // a URL elsewhere that redirects into the store is held to the same rule at the hop
    const redirector = createServer((_req, res) => res.writeHead(302, { Location: `${store.endpoint}/${BUCKET}/private/secret.png` }).end());
    await new Promise<void>((resolve) => redirector.listen(0, '127.0.0.1', resolve));
    try {
      const job = await client.submitByReference(specFor(), byUrl(`http://127.0.0.1:${(redirector.address() as AddressInfo).port}/art.png`));
      const ended = await client.waitForEnd(job.jobId);
      expect(ended.state).toBe(JobState.JOB_STATE_FAILED);
      expect(ended.error?.message).toMatch(/could not be reached or is not allowed/);
    } finally {
      redirector.close();
    }
  });

  it('takes the prefixes from S3_REFERENCE_PREFIXES', async () => {
    expect(loadConfig({}).s3ReferencePrefixes).toEqual(['uploads/']);
    target = await startTarget(storeEnv({ S3_REFERENCE_PREFIXES: ' incoming/ , uploads/' }));
    client = new ContractClient(target.address);
    const job = await client.submitByReference(specFor(), at(BUCKET, 'incoming/art.png'));
    expect((await client.waitForEnd(job.jobId)).state).toBe(JobState.JOB_STATE_COMPLETED);
    expect((await grpcError(client.submitByReference(specFor(), at(BUCKET, 'private/secret.png')))).details).toBe(GENERIC);
  });

  it('refuses an endpoint other than its own S3_ENDPOINT with INVALID_ARGUMENT, reading nothing', async () => {
    target = await startTarget(storeEnv());
    client = new ContractClient(target.address);
    const own = new URL(store.endpoint);
    const foreign = [
      'http://s3.attacker.example:9000',
      `http://${own.hostname}:${Number(own.port) + 1}`,
      `https://${own.host}`,
      `http://user:secret@${own.host}`,
      `${store.endpoint}/elsewhere`,
      'not a url',
    ];
    for (const endpoint of foreign) {
      const err = await grpcError(client.submitByReference(specFor(), at(BUCKET, 'uploads/art.png', endpoint)));
      expect({ endpoint, code: err.code, details: err.details }).toEqual({ endpoint, code: status.INVALID_ARGUMENT, details: FOREIGN_ENDPOINT });
    }
    // a foreign endpoint and a foreign bucket together: refused all the same
    const both = await grpcError(client.submitByReference(specFor(), at('other-bucket', 'uploads/art.png', 'http://s3.attacker.example:9000')));
    expect(both.code).toBe(status.INVALID_ARGUMENT);
    expect([...target.local!.processor.jobs.all()]).toEqual([]);
    // its own endpoint, spelled out (with or without a trailing slash, any case of the host), is the same store
    for (const endpoint of [store.endpoint, `${store.endpoint}/`, store.endpoint.replace(own.hostname, own.hostname.toUpperCase())]) {
      const job = await client.submitByReference(specFor(), at(BUCKET, 'uploads/art.png', endpoint));
      expect((await client.waitForEnd(job.jobId)).state).toBe(JobState.JOB_STATE_COMPLETED);
    }
  });

  it('refuses every endpoint when it has none of its own (AWS S3, only S3_BUCKET set)', async () => {
    target = await startTarget({ S3_BUCKET: BUCKET, AWS_ACCESS_KEY_ID: 'unused', AWS_SECRET_ACCESS_KEY: 'unused' });
    client = new ContractClient(target.address);
    const err = await grpcError(client.submitByReference(specFor(), at(BUCKET, 'uploads/art.png', store.endpoint)));
    expect({ code: err.code, details: err.details }).toEqual({ code: status.INVALID_ARGUMENT, details: FOREIGN_ENDPOINT });
    expect([...target.local!.processor.jobs.all()]).toEqual([]);
  });
});

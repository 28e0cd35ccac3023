import { Readable } from 'node:stream';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { ImageReference, JobErrorReason } from '@artorizer/contract';
import { ProcessorError, failedPrecondition, invalidArgument } from './errors';
import { IngestLimits, IngestedFile, ingestToFile } from './ingest';

/** A failed fetch, with the job error reason it maps to. */
export class FetchError extends Error {
  constructor(
    readonly reason: JobErrorReason,
    message: string,
  ) {
    super(message);
    this.name = 'FetchError';
  }
}

export interface FetchOptions extends IngestLimits {
  timeoutMs: number;
  signal: AbortSignal;
  /** Client for S3 references; absent when the processor has no object store. */
  s3?: S3Client;
}

/** Checks a reference at submit time, before a job exists. */
export function checkReference(reference: ImageReference | undefined, hasS3: boolean): ImageReference {
  const location = reference?.location;
  if (!reference || !location) throw invalidArgument('reference.location is required (http or s3)');
  if (location.$case === 'http') {
    let url: URL;
    try {
      url = new URL(location.http.url);
    } catch {
      throw invalidArgument('reference.http.url is not a valid URL');
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw invalidArgument('reference.http.url must be http:// or https://');
    }
  } else {
    if (!location.s3.bucket || !location.s3.key) throw invalidArgument('reference.s3 needs bucket and key');
    if (!hasS3) throw failedPrecondition('this processor has no object store configured (set S3_ENDPOINT)');
  }
  return reference;
}

async function openHttp(url: string, signal: AbortSignal, maxBytes: number): Promise<AsyncIterable<Uint8Array>> {
  const res = await fetch(url, { signal, redirect: 'follow' });
  if (!res.ok || !res.body) {
    await res.body?.cancel();
    throw new FetchError(JobErrorReason.JOB_ERROR_REASON_FETCH_FAILED, `fetching the image failed: HTTP ${res.status}`);
  }
  const length = Number(res.headers.get('content-length') ?? NaN);
  if (Number.isFinite(length) && length > maxBytes) {
    await res.body.cancel();
    throw new FetchError(JobErrorReason.JOB_ERROR_REASON_TOO_LARGE, `image is ${length} bytes, over the ${maxBytes} byte limit`);
  }
  return res.body;
}

async function openS3(client: S3Client, bucket: string, key: string, signal: AbortSignal): Promise<AsyncIterable<Uint8Array>> {
  try {
    const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }), { abortSignal: signal });
    if (!(out.Body instanceof Readable)) throw new Error('object body is not a stream');
    return out.Body;
  } catch (err) {
    const name = err instanceof Error ? err.name : 'Error';
    const what = name === 'NoSuchKey' || name === 'NotFound' ? 'object does not exist' : `store error (${name})`;
    throw new FetchError(JobErrorReason.JOB_ERROR_REASON_FETCH_FAILED, `fetching s3://${bucket}/${key} failed: ${what}`);
  }
}

/** Streams a referenced image into `file` with the timeout, size cap and integrity checks. */
export async function fetchReference(reference: ImageReference, file: string, options: FetchOptions): Promise<IngestedFile> {
  const signal = AbortSignal.any([options.signal, AbortSignal.timeout(options.timeoutMs)]);
  const location = reference.location!;
  try {
    const body =
      location.$case === 'http'
        ? await openHttp(location.http.url, signal, options.maxBytes)
        : await openS3(options.s3!, location.s3.bucket, location.s3.key, signal);
    return await ingestToFile(body, file, options);
  } catch (err) {
    if (err instanceof FetchError) throw err;
    if (err instanceof ProcessorError) {
      const reason = err.message.includes('maximum size') ? JobErrorReason.JOB_ERROR_REASON_TOO_LARGE : JobErrorReason.JOB_ERROR_REASON_INTEGRITY;
      throw new FetchError(reason, err.message);
    }
    if (options.signal.aborted) throw err;
    const timedOut = signal.aborted;
    throw new FetchError(
      JobErrorReason.JOB_ERROR_REASON_FETCH_FAILED,
      timedOut ? `fetching the image timed out after ${options.timeoutMs} ms` : `fetching the image failed: ${(err as Error).message}`,
    );
  }
}

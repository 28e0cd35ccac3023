import http from 'node:http';
import https from 'node:https';
import { LookupFunction } from 'node:net';
import { Readable } from 'node:stream';
import { AddressPolicy, canonicalHost, guardedLookup, literalAddress } from '@artorizer/net-guard';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { ImageReference, JobErrorReason } from '@artorizer/contract';
import { ImageTooLargeError, ProcessorError, failedPrecondition, invalidArgument } from './errors';
import { IngestLimits, IngestedFile, ingestToFile } from './ingest';
import { ACCEPTED_TYPES_TEXT } from '@artorizer/contract';

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
  /** Which addresses HTTP references may be fetched from, checked on every connection. */
  addresses: AddressPolicy;
  /** The processor's own store: an HTTP URL (or redirect) into it must name an object S3 references may name. */
  store?: S3ReferencePolicy;
}

const MAX_REDIRECTS = 5;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
/**
 * One message for every way an HTTP reference fails before it answers (refused, unreachable,
 * a forbidden address, DNS): differing messages would map internal ports for an attacker.
 */
const UNREACHABLE = 'fetching the image failed: its URL could not be reached or is not allowed';

class Unreachable extends Error {}

/** Where S3 references may point: the processor's own store and bucket, under the prefixes its service writes. */
export interface S3ReferencePolicy {
  /** The processor's `S3_ENDPOINT`; undefined for AWS S3 (the SDK's endpoint), where a reference may name none. */
  endpoint?: string;
  bucket: string;
  prefixes: string[];
}

/**
 * One answer for every S3 reference outside the policy, whether or not the object exists:
 * a referenced object is offered back as the job's `original`, so any other key would be a
 * way to read the bucket, and differing answers a way to probe it.
 */
const S3_NOT_ALLOWED = "reference.s3 must name an upload in this processor's bucket (S3_BUCKET, under S3_REFERENCE_PREFIXES)";
/** A caller may not point the processor at another store: the processor reads with its own credentials. */
const S3_FOREIGN_ENDPOINT = "reference.s3.endpoint must be empty or this processor's own store (S3_ENDPOINT)";

/** An endpoint URL reduced to what names the store: scheme, host, port and path (no trailing slash). */
function storeIdentity(endpoint: string): string | undefined {
  try {
    const url = new URL(endpoint);
    if (url.username || url.password || url.search || url.hash) return undefined;
    return `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, '')}`;
  } catch {
    return undefined;
  }
}

/** An empty endpoint means the processor's own; any other must name that same store. */
function ownEndpoint(endpoint: string, policy: S3ReferencePolicy): boolean {
  if (endpoint === '') return true;
  if (!policy.endpoint) return false;
  const named = storeIdentity(endpoint);
  return named !== undefined && named === storeIdentity(policy.endpoint);
}

/** A key the store could read as another one: empty, `.` or `..` segments, backslashes, control characters. */
function ambiguousKey(key: string): boolean {
  // eslint-disable-next-line no-control-regex
  return /[\\\u0000-\u001f\u007f]/.test(key) || key.split('/').some((segment) => segment === '' || segment === '.' || segment === '..');
}

function allowedS3(bucket: string, key: string, policy: S3ReferencePolicy): boolean {
  return bucket === policy.bucket && !ambiguousKey(key) && policy.prefixes.some((prefix) => key.startsWith(prefix));
}

/**
 * The object a URL on the processor's own store names (path style, or the bucket as a
 * subdomain); 'unknown' when it is on the store but names no object; undefined off the store.
 */
function storeObject(url: URL, policy: S3ReferencePolicy): { bucket: string; key: string } | 'unknown' | undefined {
  if (!policy.endpoint) return undefined;
  const store = new URL(policy.endpoint);
  const port = (u: URL) => u.port || (u.protocol === 'https:' ? '443' : '80');
  const host = canonicalHost(url.hostname);
  const storeHost = canonicalHost(store.hostname);
  if (port(url) !== port(store) || (host !== storeHost && !host.endsWith(`.${storeHost}`))) return undefined;
  let path: string;
  try {
    path = decodeURIComponent(url.pathname);
  } catch {
    return 'unknown';
  }
  if (host !== storeHost) return { bucket: host.slice(0, -storeHost.length - 1), key: path.slice(1) };
  const base = store.pathname.replace(/\/+$/, '');
  if (!path.startsWith(`${base}/`)) return 'unknown';
  const [bucket, ...key] = path.slice(base.length + 1).split('/');
  return { bucket, key: key.join('/') };
}

/**
 * Whether an HTTP URL may be fetched: anywhere off the processor's store (the address policy
 * decides there), and on it only an object an S3 reference could name. Without this, a URL to
 * the store (always an allowed address) would read any object in it, outside the prefixes.
 */
function storeUrlAllowed(url: URL, policy: S3ReferencePolicy | undefined): boolean {
  if (!policy) return true;
  const object = storeObject(url, policy);
  return object === undefined || (object !== 'unknown' && allowedS3(object.bucket, object.key, policy));
}

/** Checks a reference at submit time, before a job exists; `s3` is undefined without an object store. */
export function checkReference(reference: ImageReference | undefined, s3: S3ReferencePolicy | undefined): ImageReference {
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
    if (!storeUrlAllowed(url, s3)) throw invalidArgument(S3_NOT_ALLOWED);
  } else {
    if (!location.s3.bucket || !location.s3.key) throw invalidArgument('reference.s3 needs bucket and key');
    if (!s3) throw failedPrecondition('this processor has no object store configured (set S3_ENDPOINT)');
    if (!ownEndpoint(location.s3.endpoint, s3)) throw invalidArgument(S3_FOREIGN_ENDPOINT);
    if (!allowedS3(location.s3.bucket, location.s3.key, s3)) throw invalidArgument(S3_NOT_ALLOWED);
  }
  return reference;
}

/** A GET whose connection is refused unless every address it reaches is allowed (IP literals included). */
function get(url: URL, signal: AbortSignal, addresses: AddressPolicy, lookup: LookupFunction): Promise<http.IncomingMessage> {
  const literal = literalAddress(url.hostname);
  if (literal && addresses.refusal(literal) !== undefined) return Promise.reject(new Unreachable());
  return new Promise((resolve, reject) => {
    const client = url.protocol === 'https:' ? https : http;
    const req = client.get(url, { signal, lookup, headers: { accept: 'image/*' } }, resolve);
    req.on('error', (err) => reject(signal.aborted ? err : new Unreachable(undefined, { cause: err })));
  });
}

/** Follows up to five redirects itself, so that each hop's connection goes through the address check. */
async function openHttp(url: string, signal: AbortSignal, maxBytes: number, addresses: AddressPolicy, store: S3ReferencePolicy | undefined): Promise<AsyncIterable<Uint8Array>> {
  let current = new URL(url);
  const lookup = guardedLookup(addresses);
  for (let hop = 0; ; hop++) {
    if (!storeUrlAllowed(current, store)) throw new Unreachable();
    const res = await get(current, signal, addresses, lookup);
    const status = res.statusCode ?? 0;
    if (REDIRECT_STATUSES.has(status) && res.headers.location) {
      res.resume();
      if (hop >= MAX_REDIRECTS) throw new FetchError(JobErrorReason.JOB_ERROR_REASON_FETCH_FAILED, 'fetching the image failed: too many redirects');
      let next: URL;
      try {
        next = new URL(res.headers.location, current);
      } catch {
        throw new Unreachable();
      }
      if (next.protocol !== 'http:' && next.protocol !== 'https:') throw new Unreachable();
      current = next;
      continue;
    }
    if (status < 200 || status > 299) {
      res.resume();
      throw new FetchError(JobErrorReason.JOB_ERROR_REASON_FETCH_FAILED, `fetching the image failed: HTTP ${status}`);
    }
    if (/^\s*image\/svg\+xml\s*(;|$)/i.test(res.headers['content-type'] ?? '')) {
      res.destroy();
      throw new FetchError(JobErrorReason.JOB_ERROR_REASON_INVALID_IMAGE, `the image URL answered with an SVG; only ${ACCEPTED_TYPES_TEXT} images are accepted`);
    }
    const length = Number(res.headers['content-length'] ?? NaN);
    if (Number.isFinite(length) && length > maxBytes) {
      res.destroy();
      throw new FetchError(JobErrorReason.JOB_ERROR_REASON_TOO_LARGE, `image is ${length} bytes, over the ${maxBytes} byte limit`);
    }
    return res;
  }
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
        ? await openHttp(location.http.url, signal, options.maxBytes, options.addresses, options.store)
        : await openS3(options.s3!, location.s3.bucket, location.s3.key, signal);
    return await ingestToFile(body, file, options);
  } catch (err) {
    if (err instanceof FetchError) throw err;
    if (err instanceof ProcessorError) {
      const reason = err instanceof ImageTooLargeError ? JobErrorReason.JOB_ERROR_REASON_TOO_LARGE : JobErrorReason.JOB_ERROR_REASON_INTEGRITY;
      throw new FetchError(reason, err.message);
    }
    if (options.signal.aborted) throw err;
    const timedOut = signal.aborted;
    if (timedOut) throw new FetchError(JobErrorReason.JOB_ERROR_REASON_FETCH_FAILED, `fetching the image timed out after ${options.timeoutMs} ms`);
    throw new FetchError(JobErrorReason.JOB_ERROR_REASON_FETCH_FAILED, err instanceof Unreachable ? UNREACHABLE : 'fetching the image failed while receiving it');
  }
}

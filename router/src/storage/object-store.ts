import { createHash, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutBucketLifecycleConfigurationCommand,
  PutObjectCommand,
  S3Client,
  S3ClientConfig,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { createPresignedPost } from '@aws-sdk/s3-presigned-post';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';

/** Where uploads live: the router's own, direct uploads', and resumable (tus) uploads'. */
export const UPLOAD_PREFIX = 'uploads/';

/** The object of an upload (direct or resumable) with this id. */
export const uploadKeyFor = (uploadId: string) => `${UPLOAD_PREFIX}${uploadId}`;

/** The objects @tus/s3-store keeps beside an unfinished upload's key: its info and its last short part. */
export const TUS_COMPANIONS = ['.info', '.part'] as const;

/** Object store settings (`S3_*` and the standard `AWS_*` credential variables). */
export interface StoreSettings {
  /** Endpoint the router talks to (`S3_ENDPOINT`); unset means AWS S3. */
  endpoint?: string;
  /** Endpoint written into presigned URLs, the one clients and processors reach (`S3_PUBLIC_ENDPOINT`, default `S3_ENDPOINT`). */
  publicEndpoint?: string;
  region: string;
  bucket: string;
  /** Multipart part size in bytes (`S3_PART_SIZE`). */
  partBytes: number;
  /** Parts uploaded at once (`S3_QUEUE_SIZE`); memory in flight is about part size times this. */
  queueSize: number;
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

export interface StoredObject {
  key: string;
  sizeBytes: number;
  sha256: string;
}

function clientConfig(endpoint: string | undefined, settings: StoreSettings): S3ClientConfig {
  return {
    endpoint,
    region: settings.region,
    forcePathStyle: Boolean(endpoint),
    credentials: settings.credentials,
    // S3-compatible stores (s3rver, MinIO, RGW) choke on aws-chunked uploads with trailing checksums.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  };
}

const client = (endpoint: string | undefined, settings: StoreSettings) => new S3Client(clientConfig(endpoint, settings));

/** The router's view of the bucket: streamed uploads, presigned URLs, clean-up. */
export class ObjectStore {
  readonly client: S3Client;
  private readonly presigner: S3Client;

  constructor(readonly settings: StoreSettings) {
    this.client = client(settings.endpoint, settings);
    this.presigner = settings.publicEndpoint && settings.publicEndpoint !== settings.endpoint ? client(settings.publicEndpoint, settings) : this.client;
  }

  get bucket(): string {
    return this.settings.bucket;
  }

  /** How this router's own S3 client is set up, for a library that makes its own (tus). */
  clientConfig(): S3ClientConfig {
    return clientConfig(this.settings.endpoint, this.settings);
  }

  /** A new key for an upload; never derived from anything the client sent. */
  newUploadKey(): string {
    return `uploads/${randomUUID()}`;
  }

  /**
   * Streams `chunks` into a multipart upload (at most `queueSize` parts of `partBytes` in
   * memory), hashing on the way. On failure or abort the multipart upload is aborted and
   * any completed object deleted before this settles, so nothing is left behind.
   */
  async upload(key: string, chunks: AsyncIterable<Buffer>, contentType: string, signal: AbortSignal): Promise<StoredObject> {
    const hash = createHash('sha256');
    let sizeBytes = 0;
    // lib-storage's own abort() settles done() at once and leaves its part uploaders waiting
    // on the source; when that source is a hung-up client's, they wait for ever and the
    // multipart upload is never aborted (RGW listed it long after). Failing the body instead
    // takes lib-storage's error path: in-flight parts finish, then AbortMultipartUpload, then
    // done() rejects.
    const body = new PassThrough();
    const fail = (err: unknown) => body.destroy(err instanceof Error ? err : new Error('upload aborted'));
    void (async () => {
      for await (const chunk of chunks) {
        hash.update(chunk);
        sizeBytes += chunk.length;
        if (!body.write(chunk)) await once(body, 'drain');
      }
      body.end();
    })().catch(fail);
    const onAbort = () => fail(signal.reason);
    if (signal.aborted) onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.bucket, Key: key, Body: body, ContentType: contentType },
      partSize: this.settings.partBytes,
      queueSize: this.settings.queueSize,
      leavePartsOnError: false,
    });
    try {
      await upload.done();
    } catch (err) {
      await this.delete(key);
      throw err;
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
    if (signal.aborted) {
      await this.delete(key);
      throw signal.reason ?? new Error('upload aborted');
    }
    return { key, sizeBytes, sha256: hash.digest('hex') };
  }

  /**
   * Deletes an object; a missing object or an unreachable store is not an error here. An
   * upload's key takes its resumable-upload companions with it (`.info`, `.part`: see tus/).
   */
  async delete(key: string): Promise<boolean> {
    const keys = key.startsWith(UPLOAD_PREFIX) && !TUS_COMPANIONS.some((suffix) => key.endsWith(suffix)) ? [key, ...TUS_COMPANIONS.map((suffix) => key + suffix)] : [key];
    const deleted = await Promise.all(
      keys.map((k) =>
        this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: k })).then(
          () => true,
          () => false,
        ),
      ),
    );
    return deleted[0];
  }

  /** Whether an object exists (one HEAD); store failures are thrown. */
  async exists(key: string): Promise<boolean> {
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return true;
    } catch (err) {
      const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (status === 404) return false;
      throw err;
    }
  }

  /**
   * The first `bytes` of an object with its total size and type, in one ranged GET (the
   * Content-Range header carries the size); undefined when the object does not exist.
   */
  async peek(key: string, bytes: number): Promise<{ first: Buffer; sizeBytes: number; contentType: string } | undefined> {
    let out;
    try {
      out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key, Range: `bytes=0-${bytes - 1}` }));
    } catch (err) {
      const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (status === 404 || (err as Error).name === 'NoSuchKey' || (err as Error).name === 'NotFound') return undefined;
      // An empty object has no byte 0 to range over.
      if (status === 416 || (err as Error).name === 'InvalidRange') return { first: Buffer.alloc(0), sizeBytes: 0, contentType: '' };
      throw err;
    }
    const parts: Buffer[] = [];
    for await (const chunk of out.Body as AsyncIterable<Buffer>) parts.push(chunk);
    const total = Number(/\/(\d+)$/.exec(out.ContentRange ?? '')?.[1] ?? out.ContentLength ?? 0);
    return { first: Buffer.concat(parts).subarray(0, bytes), sizeBytes: total, contentType: out.ContentType ?? '' };
  }

  /** A presigned GET; `as` sets the type and disposition the store answers with (response-content-* overrides). */
  presignGet(key: string, expiresIn: number, as?: { contentType: string; disposition: string }): Promise<string> {
    const command = new GetObjectCommand({ Bucket: this.bucket, Key: key, ResponseContentType: as?.contentType, ResponseContentDisposition: as?.disposition });
    return getSignedUrl(this.presigner, command, { expiresIn });
  }

  /** A presigned PUT that signs the content type and length, so the client must send exactly those. */
  async presignPut(key: string, contentType: string, sizeBytes: number, expiresIn: number): Promise<{ url: string; headers: Record<string, string> }> {
    const command = new PutObjectCommand({ Bucket: this.bucket, Key: key, ContentType: contentType, ContentLength: sizeBytes });
    const url = await getSignedUrl(this.presigner, command, { expiresIn, signableHeaders: new Set(['content-type', 'content-length']) });
    return { url, headers: { 'Content-Type': contentType, 'Content-Length': String(sizeBytes) } };
  }

  /** A presigned POST policy: one key, one content type, a byte range the store enforces. */
  async presignPost(key: string, contentType: string, maxBytes: number, expiresIn: number): Promise<{ url: string; fields: Record<string, string> }> {
    return createPresignedPost(this.presigner, {
      Bucket: this.bucket,
      Key: key,
      Conditions: [
        ['content-length-range', 1, maxBytes],
        ['eq', '$Content-Type', contentType],
      ],
      Fields: { 'Content-Type': contentType },
      Expires: expiresIn,
    });
  }

  /**
   * Expires uploads and artifacts after `days` and aborts incomplete multipart uploads after
   * `incompleteDays` (at least one; a resumable upload may take that long), where the store
   * supports lifecycle rules; false when it does not (sweep instead).
   */
  async applyLifecycle(days: number, incompleteDays: number): Promise<boolean> {
    try {
      await this.client.send(
        new PutBucketLifecycleConfigurationCommand({
          Bucket: this.bucket,
          LifecycleConfiguration: {
            Rules: ['uploads/', 'jobs/'].map((prefix) => ({
              ID: `artorizer-expire-${prefix.replace('/', '')}`,
              Status: 'Enabled',
              Filter: { Prefix: prefix },
              Expiration: { Days: days },
              AbortIncompleteMultipartUpload: { DaysAfterInitiation: Math.max(1, incompleteDays) },
            })),
          },
        }),
      );
      return true;
    } catch {
      return false;
    }
  }

  /** Deletes objects under the prefixes last modified before `cutoff`; returns how many. */
  async sweep(prefixes: string[], cutoff: Date): Promise<number> {
    let deleted = 0;
    for (const prefix of prefixes) {
      let token: string | undefined;
      do {
        const page = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token }));
        for (const object of page.Contents ?? []) {
          if (object.Key && object.LastModified && object.LastModified < cutoff && (await this.delete(object.Key))) deleted += 1;
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
    }
    return deleted;
  }

  /**
   * Aborts multipart uploads under `prefix` begun before `cutoff` (what a router killed
   * mid-upload leaves), unless `keep` says otherwise, and deletes their objects' companions;
   * returns how many, or undefined when the store cannot list them.
   */
  async abortIncompleteUploads(prefix: string, cutoff: Date, keep: (key: string, initiated: Date) => Promise<boolean> = async () => false): Promise<number | undefined> {
    let aborted = 0;
    let keyMarker: string | undefined;
    let uploadIdMarker: string | undefined;
    do {
      let page;
      try {
        page = await this.client.send(new ListMultipartUploadsCommand({ Bucket: this.bucket, Prefix: prefix, KeyMarker: keyMarker, UploadIdMarker: uploadIdMarker }));
      } catch (err) {
        if ((err as Error).name === 'NotImplemented') return undefined; // s3rver
        throw err;
      }
      for (const upload of page.Uploads ?? []) {
        if (!upload.Key || !upload.UploadId || !upload.Initiated || upload.Initiated >= cutoff) continue;
        if (await keep(upload.Key, upload.Initiated)) continue;
        await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: upload.Key, UploadId: upload.UploadId }));
        await this.delete(upload.Key);
        aborted += 1;
      }
      keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
      uploadIdMarker = page.IsTruncated ? page.NextUploadIdMarker : undefined;
    } while (keyMarker);
    return aborted;
  }

  close(): void {
    this.client.destroy();
    if (this.presigner !== this.client) this.presigner.destroy();
  }
}

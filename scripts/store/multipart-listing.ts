import fs from 'node:fs/promises';
import path from 'node:path';
import type S3rver from 's3rver';

/** The part of Koa's context these handlers use (s3rver is a Koa app; Koa's types are not installed). */
interface KoaContext {
  path: string;
  method: string;
  query: Record<string, string | string[] | undefined>;
  body: unknown;
  status: number;
}
type Middleware = (ctx: KoaContext, next: () => Promise<void>) => Promise<void>;

// s3rver's own error type renders S3's XML error body and status (NoSuchUpload: 404)
const S3Error = require('s3rver/lib/models/error') as new (code: string, message: string) => Error;

/** Where s3rver keeps a bucket's multipart uploads: one folder per upload id (`key`, `metadata`, parts `1`, `1.md5`, ...). */
const uploadsDir = (root: string, bucket: string) => path.join(root, bucket, '._S3rver_uploads');

interface PartFile {
  PartNumber: number;
  ETag: string;
  Size: number;
  LastModified: string;
}

/** The parts whose upload has finished: s3rver writes a part's `.md5` once its last byte is in, so one without it is still arriving. */
async function readParts(dir: string): Promise<PartFile[]> {
  const names = await fs.readdir(dir);
  const done = names.filter((name) => /^\d+$/.test(name) && names.includes(`${name}.md5`));
  const parts = await Promise.all(
    done.map(async (name) => {
      const [stat, md5] = await Promise.all([fs.stat(path.join(dir, name)), fs.readFile(path.join(dir, `${name}.md5`), 'utf8')]);
      return { PartNumber: Number(name), ETag: `"${md5}"`, Size: stat.size, LastModified: stat.mtime.toISOString() };
    }),
  );
  return parts.sort((a, b) => a.PartNumber - b.PartNumber);
}

async function listUploads(root: string, bucket: string, prefix: string) {
  const dir = uploadsDir(root, bucket);
  const ids = await fs.readdir(dir).catch(() => [] as string[]);
  const uploads = [];
  for (const id of ids) {
    const keyFile = path.join(dir, id, 'key');
    const key = await fs.readFile(keyFile, 'utf8').catch(() => undefined);
    if (key === undefined || !key.startsWith(prefix)) continue;
    const initiated = (await fs.stat(keyFile)).mtime;
    uploads.push({ Key: key, UploadId: id, Initiated: initiated.toISOString(), StorageClass: 'STANDARD' });
  }
  return uploads.sort((a, b) => a.Key.localeCompare(b.Key) || a.Initiated.localeCompare(b.Initiated));
}

/** The upload's folder when it exists and belongs to `key`; NoSuchUpload otherwise, as S3 answers. */
async function uploadFolder(root: string, bucket: string, key: string, uploadId: string): Promise<string> {
  const dir = path.join(uploadsDir(root, bucket), path.basename(uploadId));
  const owner = await fs.readFile(path.join(dir, 'key'), 'utf8').catch(() => undefined);
  if (owner !== key) throw new S3Error('NoSuchUpload', 'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.');
  return dir;
}

/**
 * The three multipart calls s3rver lacks, which resumable uploads (@tus/s3-store) and the
 * incomplete-upload sweep need: ListParts, AbortMultipartUpload and ListMultipartUploads
 * (path-style requests, no pagination: every upload and part in one page). Read from
 * s3rver's own folder layout; inserted ahead of its router, after its XML encoder.
 */
export function addMultipartListing(server: S3rver, root: string): void {
  const handle: Middleware = async (ctx, next) => {
    const [bucket, ...rest] = ctx.path.split('/').slice(1).map(decodeURIComponent);
    const key = rest.join('/');
    const uploadId = typeof ctx.query.uploadId === 'string' ? ctx.query.uploadId : undefined;
    if (ctx.method === 'GET' && key === '' && bucket && 'uploads' in ctx.query) {
      const prefix = typeof ctx.query.prefix === 'string' ? ctx.query.prefix : '';
      const uploads = await listUploads(root, bucket, prefix);
      ctx.body = { ListMultipartUploadsResult: { Bucket: bucket, Prefix: prefix, MaxUploads: 1000, IsTruncated: false, ...(uploads.length > 0 ? { Upload: uploads } : {}) } };
      return;
    }
    if (key !== '' && uploadId !== undefined && ctx.method === 'GET') {
      const parts = await readParts(await uploadFolder(root, bucket, key, uploadId));
      ctx.body = { ListPartsResult: { Bucket: bucket, Key: key, UploadId: uploadId, PartNumberMarker: 0, MaxParts: 10000, IsTruncated: false, ...(parts.length > 0 ? { Part: parts } : {}) } };
      return;
    }
    if (key !== '' && uploadId !== undefined && ctx.method === 'DELETE') {
      await fs.rm(await uploadFolder(root, bucket, key, uploadId), { recursive: true, force: true });
      ctx.status = 204;
      return;
    }
    await next();
  };
  // Koa runs middleware in array order: s3rver's are [logger, XML encoder, mount interop, vhost, router]
  (server as unknown as { middleware: Middleware[] }).middleware.splice(2, 0, handle);
}

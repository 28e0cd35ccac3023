import { S3Store } from '@tus/s3-store';
import { ERRORS, KvStore } from '@tus/utils';
import { ObjectStore } from '../storage/object-store';

/**
 * No cache of upload info: with several routers, a cached entry outlives an upload finished or
 * terminated through another router (and the library's own cache is never trimmed). Every
 * request reads the `.info` object instead, one GET.
 */
class NoCache<T> implements KvStore<T> {
  async get(): Promise<T | undefined> {
    return undefined;
  }
  async set(): Promise<void> {}
  async delete(): Promise<void> {}
}

const isNotFound = (err: unknown) => ['NotFound', 'NoSuchKey', 'NoSuchUpload'].includes((err as Error).name) || (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404;

/**
 * @tus/s3-store on the router's bucket, with what the product needs on top:
 * - `Upload-Length` is required (no creation-defer-length): the size limit is checked before a byte is stored;
 * - terminating a finished upload removes its object too (the library answers 404 and keeps it);
 * - parts wait in the router's own working folder, which a restarted router sweeps.
 */
export class UploadDatastore extends S3Store {
  constructor(
    private readonly objects: ObjectStore,
    options: { partBytes: number; expiryMs: number; tmpDirectory: string },
  ) {
    super({
      partSize: options.partBytes,
      expirationPeriodInMilliseconds: options.expiryMs,
      // expiry is enforced by the router's sweep, not by tag-based lifecycle rules
      useTags: false,
      cache: new NoCache(),
      tmpDirectory: options.tmpDirectory,
      s3ClientConfig: { bucket: objects.bucket, ...objects.clientConfig() },
    });
    this.extensions = this.extensions.filter((extension) => extension !== 'creation-defer-length');
  }

  override async remove(id: string): Promise<void> {
    let uploadId: string;
    try {
      uploadId = (await this.getMetadata(id))['upload-id'];
    } catch (err) {
      if (isNotFound(err)) throw ERRORS.FILE_NOT_FOUND;
      throw err;
    }
    try {
      await this.client.abortMultipartUpload({ Bucket: this.bucket, Key: id, UploadId: uploadId });
    } catch (err) {
      if (!isNotFound(err)) throw err; // finished: no multipart upload left, only the object
    }
    await this.objects.delete(id);
  }

  /** Closes the library's own S3 client (its sockets). */
  close(): void {
    this.client.destroy();
  }
}

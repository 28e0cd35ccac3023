import { DeleteObjectsCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import fs from 'node:fs';
import { ImageReference } from '@artorizer/contract';

/** Where a processor with an object store puts its artifacts: `jobs/<job id>/<name>`. */
export class ArtifactStore {
  constructor(
    readonly client: S3Client,
    readonly bucket: string,
  ) {}

  key(jobId: string, name: string): string {
    return `jobs/${jobId}/${name}`;
  }

  /** Uploads the file at `path` (`size` bytes) without reading it into memory. */
  async put(jobId: string, name: string, path: string, size: number, contentType: string): Promise<ImageReference> {
    const key = this.key(jobId, name);
    await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: fs.createReadStream(path), ContentLength: size, ContentType: contentType }));
    return { location: { $case: 's3', s3: { bucket: this.bucket, key, endpoint: '', region: '' } } };
  }

  /** Deletes the named artifacts of a job; best effort (lifecycle rules catch the rest). */
  async removeJob(jobId: string, names: string[]): Promise<void> {
    if (names.length === 0) return;
    await this.client.send(new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: names.map((n) => ({ Key: this.key(jobId, n) })) } })).catch(() => undefined);
  }
}

import fs from 'node:fs';
import path from 'node:path';
import * as tus from 'tus-js-client';
import { CliError, Subject, answerError, isRetryable, networkError } from './errors';
import { EXIT } from './exit-codes';
import { Connection, authHeaders } from './http';
import { ResumeStore, stateDir } from './resume-store';
import { RetryableAnswer, parseRetryAfter, withRetries } from './retry';

/** A local file to upload. */
export interface LocalFile {
  path: string;
  /** Its name as shown and sent ("art.png"). */
  name: string;
  size: number;
  /** The type declared to the router (from the extension; the router checks the bytes). */
  type: string;
}

export interface UploadHooks {
  onProgress(sent: number, total: number): void;
  onWait?(seconds: number, error: CliError): void;
}

let storage: ResumeStore | undefined;
function resumeStore(): ResumeStore {
  storage ??= new ResumeStore(path.join(stateDir(), 'tus-uploads.json'));
  return storage;
}

/** Drops what is remembered of an upload, so that the next run does not try to resume it. */
async function forget(upload: tus.Upload): Promise<void> {
  try {
    for (const previous of await upload.findPreviousUploads()) await resumeStore().removeUpload(previous.urlStorageKey);
  } catch {
    // remembering is a convenience
  }
}

/** A tus-js-client error in words; a RetryableAnswer for 429/503 (asked again with Retry-After). */
function tusError(err: Error, conn: Connection, subject: Subject): Error {
  const detailed = err as Partial<tus.DetailedError>;
  const res = detailed.originalResponse;
  if (res) {
    const error = answerError(res.getStatus(), res.getBody() ?? '', subject);
    return isRetryable(res.getStatus()) ? new RetryableAnswer(error, parseRetryAfter(res.getHeader('Retry-After'))) : error;
  }
  const network = networkError(detailed.causingError ?? err, conn.url);
  if (network) return network;
  return new CliError(`${subject.label}: the resumable upload failed (${err.message})`, EXIT.unavailable);
}

/**
 * Uploads a file with tus 1.0 at the router's resumable endpoint; the upload's URL once the
 * last byte is in. A broken connection is resumed from what the router has (tus-js-client's
 * retries); 429 and 503 are asked again after Retry-After, resuming the same upload; an upload
 * cut short in an earlier run of the CLI is resumed rather than started anew.
 */
export async function tusUpload(conn: Connection, endpointPath: string, file: LocalFile, subject: Subject, hooks: UploadHooks): Promise<string> {
  let uploadUrl: string | null = null;
  const attempt = () =>
    new Promise<string>((resolve, reject) => {
      const store = resumeStore();
      const upload = new tus.Upload(fs.createReadStream(file.path) as unknown as Buffer, {
        endpoint: `${conn.url}${endpointPath}`,
        uploadUrl,
        uploadSize: file.size,
        metadata: { filename: file.name, filetype: file.type },
        headers: authHeaders(conn),
        retryDelays: [0, 1000, 3000, 5000],
        urlStorage: store,
        storeFingerprintForResuming: true,
        removeFingerprintOnSuccess: true,
        onShouldRetry: (err) => {
          const status = err.originalResponse?.getStatus() ?? 0;
          if (isRetryable(status)) return false; // asked again below, honouring Retry-After
          return status === 0 || status >= 500 || status === 409 || status === 423;
        },
        onProgress: (sent, total) => hooks.onProgress(sent, total),
        onSuccess: () => resolve(upload.url!),
        onError: (err) => {
          uploadUrl = upload.url;
          const status = (err as Partial<tus.DetailedError>).originalResponse?.getStatus() ?? 0;
          if (status >= 400 && status < 500 && !isRetryable(status)) {
            // refused (not an image, too large, no key): nothing to resume next time
            uploadUrl = null;
            forget(upload).finally(() => reject(tusError(err, conn, subject)));
            return;
          }
          reject(tusError(err, conn, subject));
        },
      });
      const start = async () => {
        if (!uploadUrl) {
          const previous = await upload.findPreviousUploads().catch(() => []);
          if (previous.length > 0) upload.resumeFromPreviousUpload(previous[0]);
        }
        upload.start();
      };
      start().catch(reject);
    });
  return withRetries(attempt, conn.retry, hooks.onWait);
}

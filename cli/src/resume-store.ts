import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { UploadOptions } from 'tus-js-client';

type UrlStorage = NonNullable<UploadOptions['urlStorage']>;
type PreviousUpload = Awaited<ReturnType<UrlStorage['findAllUploads']>>[number];

/**
 * Where unfinished uploads are remembered, so that running the same command again resumes
 * them: $ARTORIZER_STATE_DIR, else $XDG_STATE_HOME/artorizer, else ~/.local/state/artorizer.
 */
export function stateDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.ARTORIZER_STATE_DIR) return env.ARTORIZER_STATE_DIR;
  return path.join(env.XDG_STATE_HOME || path.join(os.homedir(), '.local', 'state'), 'artorizer');
}

/** Uploads older than this are forgotten (the router expires unfinished ones after a day by default). */
const KEEP_MS = 7 * 86_400_000;

/**
 * tus-js-client's URL storage in one JSON file: which upload URL belongs to which local file
 * (its fingerprint: path, size, modification time and the router's endpoint). Remembering is a
 * convenience, so it never fails an upload: a file that cannot be read or written is treated as
 * empty. Writes in this process are serialised and replace the file whole (write, then rename),
 * so a reader never sees half of one.
 */
export class ResumeStore implements UrlStorage {
  private chain: Promise<unknown> = Promise.resolve();

  constructor(private readonly file: string) {}

  private read(): Record<string, PreviousUpload> {
    try {
      const data = JSON.parse(fs.readFileSync(this.file, 'utf8')) as unknown;
      return data && typeof data === 'object' && !Array.isArray(data) ? (data as Record<string, PreviousUpload>) : {};
    } catch {
      return {};
    }
  }

  private update(change: (data: Record<string, PreviousUpload>) => void): Promise<void> {
    const next = this.chain.then(() => {
      try {
        const data = this.read();
        change(data);
        const cutoff = Date.now() - KEEP_MS;
        for (const [key, upload] of Object.entries(data)) if (Date.parse(upload.creationTime) < cutoff) delete data[key];
        fs.mkdirSync(path.dirname(this.file), { recursive: true });
        const temp = `${this.file}.${process.pid}.${randomBytes(4).toString('hex')}`;
        fs.writeFileSync(temp, JSON.stringify(data), { mode: 0o600 });
        fs.renameSync(temp, this.file);
      } catch {
        // not remembered: the upload itself goes on
      }
    });
    this.chain = next;
    return next;
  }

  async findAllUploads(): Promise<PreviousUpload[]> {
    await this.chain;
    return Object.entries(this.read()).map(([key, upload]) => ({ ...upload, urlStorageKey: key }));
  }

  async findUploadsByFingerprint(fingerprint: string): Promise<PreviousUpload[]> {
    return (await this.findAllUploads()).filter((u) => u.urlStorageKey.startsWith(`tus::${fingerprint}::`));
  }

  async removeUpload(urlStorageKey: string): Promise<void> {
    await this.update((data) => {
      delete data[urlStorageKey];
    });
  }

  async addUpload(fingerprint: string, upload: PreviousUpload): Promise<string> {
    const key = `tus::${fingerprint}::${randomBytes(6).toString('hex')}`;
    await this.update((data) => {
      data[key] = upload;
    });
    return key;
  }
}

import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';

/**
 * The processor's files, in its own folder under WORK_DIR: uploads land in `incoming/` under a
 * generated name, stay there while their job is queued, and are moved into `jobs/<id>/` when
 * the job starts, so a failed upload leaves nothing in `jobs/`.
 */
export class Workspace {
  constructor(readonly root: string) {}

  async init(): Promise<void> {
    await fs.mkdir(path.join(this.root, 'incoming'), { recursive: true });
    await fs.mkdir(path.join(this.root, 'jobs'), { recursive: true });
  }

  incomingPath(): string {
    return path.join(this.root, 'incoming', `${randomUUID()}.part`);
  }

  jobDir(jobId: string): string {
    return path.join(this.root, 'jobs', jobId);
  }

  jobFile(jobId: string, name: string): string {
    return path.join(this.jobDir(jobId), name);
  }

  async adopt(incoming: string, jobId: string, name: string): Promise<string> {
    await fs.mkdir(this.jobDir(jobId), { recursive: true });
    const target = this.jobFile(jobId, name);
    await fs.rename(incoming, target);
    return target;
  }

  async removeJob(jobId: string): Promise<void> {
    await fs.rm(this.jobDir(jobId), { recursive: true, force: true });
  }

  async discard(file: string): Promise<void> {
    await fs.rm(file, { force: true });
  }
}

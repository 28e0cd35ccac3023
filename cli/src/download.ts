import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CliError, answerError, networkError } from './errors';
import { EXIT } from './exit-codes';
import { Connection, headersDeadline, request } from './http';

/** An artifact's bytes as the router serves them. */
export interface Artifact {
  body: ReadableStream<Uint8Array>;
  contentType: string;
  /** The file name the router suggests (Content-Disposition), without any folder. */
  suggestedName?: string;
}

/** The file name of a Content-Disposition header (filename* first), reduced to a bare name. */
export function dispositionName(header: string | null): string | undefined {
  if (!header) return undefined;
  const extended = /filename\*\s*=\s*UTF-8''([^;]+)/i.exec(header);
  const plain = /filename\s*=\s*"([^"]*)"/i.exec(header) ?? /filename\s*=\s*([^;]+)/i.exec(header);
  let name: string | undefined;
  try {
    name = extended ? decodeURIComponent(extended[1].trim()) : plain?.[1].trim();
  } catch {
    name = plain?.[1].trim();
  }
  const bare = name ? path.basename(name.replace(/\\/g, '/')) : undefined;
  return bare && bare !== '.' && bare !== '..' ? bare : undefined;
}

/**
 * GET /jobs/:id/download/:variant. The router answers with the bytes, or with a 302 to a
 * presigned URL of its store: that one is fetched without the API key (the store has its own
 * signature and must not see the router's credentials).
 */
export async function fetchArtifact(conn: Connection, jobId: string, variant: string): Promise<Artifact> {
  const subject = { label: `job ${jobId}`, jobId };
  let res = await request(conn, `/jobs/${encodeURIComponent(jobId)}/download/${encodeURIComponent(variant)}`, { subject, manualRedirect: true, noTimeout: true });
  for (let hops = 0; res.status >= 300 && res.status < 400; hops++) {
    const location = res.headers.get('location');
    if (!location || hops >= 5) throw new CliError(`job ${jobId}: the router's download of "${variant}" redirects ${location ? 'too often' : 'nowhere'}`, EXIT.unavailable);
    const target = new URL(location, res.url || `${conn.url}/`).toString();
    await res.body?.cancel();
    const deadline = headersDeadline(conn.timeoutMs);
    try {
      res = await fetch(target, { redirect: 'manual', signal: deadline.signal });
    } catch (err) {
      const network = networkError(err, new URL(target).origin);
      if (!network) throw err;
      const reason = /\(([^)]*)\)/.exec(network.message)?.[1] ?? 'no answer';
      throw new CliError(
        `job ${jobId}: the router sent the download to its store at ${new URL(target).origin}, which cannot be reached from here (${reason}); S3_PUBLIC_ENDPOINT must be an address clients reach`,
        EXIT.unavailable,
      );
    } finally {
      deadline.clear();
    }
    if (!res.ok && !(res.status >= 300 && res.status < 400)) {
      const body = await res.text().catch(() => '');
      const error = answerError(res.status, body, subject);
      throw new CliError(
        `job ${jobId}: the store the router sent the download to answered ${res.status} (${error.details.routerMessage || 'no detail'})`,
        res.status >= 500 ? EXIT.unavailable : EXIT.refused,
      );
    }
  }
  if (!res.body) throw new CliError(`job ${jobId}: the download of "${variant}" has no body`, EXIT.unavailable);
  return {
    body: res.body as ReadableStream<Uint8Array>,
    contentType: res.headers.get('content-type') ?? 'application/octet-stream',
    suggestedName: dispositionName(res.headers.get('content-disposition')),
  };
}

/** A local file error in words (exit 2: the command named a file or folder that cannot be used). */
export function fileError(err: unknown, file: string, doing: string): CliError {
  const code = (err as { code?: unknown }).code;
  const reasons: Record<string, string> = {
    EACCES: 'permission denied',
    EPERM: 'permission denied',
    ENOENT: doing === 'read' ? 'no such file' : 'no such folder',
    ENOTDIR: 'a part of the path is not a folder',
    EISDIR: 'it is a folder',
    EEXIST: 'a file of that name is in the way',
    ENOSPC: 'no space left on the device',
    EROFS: 'read-only file system',
  };
  const reason = typeof code === 'string' && reasons[code] ? reasons[code] : err instanceof Error ? err.message : String(err);
  return new CliError(`${file}: cannot ${doing} (${reason})`, EXIT.usage);
}

/** Streams an artifact into `file` through a temporary name, so a cut download leaves no partial file; the bytes written. */
export async function saveArtifact(artifact: Artifact, file: string): Promise<number> {
  const partial = `${file}.part-${process.pid}`;
  let bytes = 0;
  let out: fs.WriteStream;
  try {
    out = fs.createWriteStream(partial, { flags: 'wx' });
    await new Promise<void>((resolve, reject) => out.once('open', () => resolve()).once('error', reject));
  } catch (err) {
    throw fileError(err, file, 'write');
  }
  try {
    const source = Readable.fromWeb(artifact.body as Parameters<typeof Readable.fromWeb>[0]);
    source.on('data', (chunk: Buffer) => (bytes += chunk.length));
    await pipeline(source, out);
    fs.renameSync(partial, file);
    return bytes;
  } catch (err) {
    fs.rmSync(partial, { force: true });
    if ((err as { code?: unknown }).code && ['EACCES', 'EPERM', 'ENOSPC', 'EISDIR', 'EROFS'].includes(String((err as { code?: unknown }).code))) throw fileError(err, file, 'write');
    throw err;
  }
}

import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { CliError, Subject, answerError, isRetryable, networkError } from './errors';
import { EXIT } from './exit-codes';
import { Connection, authHeaders } from './http';
import { RetryableAnswer, parseRetryAfter, withRetries } from './retry';
import { LocalFile, UploadHooks } from './upload-tus';

/** A value safe inside a quoted multipart header parameter. */
const quoted = (value: string) => value.replace(/["\r\n\\]/g, '_');

/**
 * The multipart body around the file: the fields first (so the router relays the image while it
 * arrives), then the file part's header; and the closing boundary.
 */
export function multipartFrame(fields: Record<string, string>, file: LocalFile, boundary: string): { head: Buffer; tail: Buffer } {
  let head = '';
  for (const [name, value] of Object.entries(fields)) {
    head += `--${boundary}\r\nContent-Disposition: form-data; name="${quoted(name)}"\r\n\r\n${value}\r\n`;
  }
  head += `--${boundary}\r\nContent-Disposition: form-data; name="image"; filename="${quoted(file.name)}"\r\nContent-Type: ${file.type}\r\n\r\n`;
  return { head: Buffer.from(head, 'utf8'), tail: Buffer.from(`\r\n--${boundary}--\r\n`, 'utf8') };
}

interface Answer {
  status: number;
  body: string;
  retryAfter: string | undefined;
}

/**
 * One multipart POST, streamed from the file with its exact Content-Length, reporting the bytes
 * written. The router may answer before the body is all sent (a non-image, too large, a bad
 * field): the answer counts and sending stops.
 */
function post(conn: Connection, path: string, fields: Record<string, string>, file: LocalFile, onSent: (sent: number) => void): Promise<Answer> {
  const boundary = `artorizer-${randomBytes(12).toString('hex')}`;
  const { head, tail } = multipartFrame(fields, file, boundary);
  const url = new URL(`${conn.url}${path}`);
  const client = url.protocol === 'https:' ? https : http;
  return new Promise<Answer>((resolve, reject) => {
    let answered = false;
    let settled = false;
    const source = fs.createReadStream(file.path, { highWaterMark: 256 * 1024 });
    const req = client.request(url, {
      method: 'POST',
      headers: {
        ...authHeaders(conn),
        'Content-Type': `multipart/form-data; boundary=${boundary}`,
        'Content-Length': String(head.length + file.size + tail.length),
      },
    });
    const fail = (err: unknown) => {
      if (settled || answered) return;
      settled = true;
      source.destroy();
      req.destroy();
      reject(err);
    };
    // no answer and no progress for this long: the router is not there any more
    req.setTimeout(Math.max(conn.timeoutMs, 60_000), () => fail(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
    req.on('error', fail);
    source.on('error', fail);
    req.on('response', (res) => {
      answered = true;
      source.destroy();
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', (err) => {
        if (!settled) {
          settled = true;
          reject(err);
        }
      });
      res.on('end', () => {
        if (settled) return;
        settled = true;
        const retryAfter = res.headers['retry-after'];
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), retryAfter: Array.isArray(retryAfter) ? retryAfter[0] : retryAfter });
        // a refusal before the body was all sent: nothing more to send on this connection
        if (!req.writableFinished) req.destroy();
      });
    });
    const send = async () => {
      let sent = 0;
      const write = (chunk: Buffer) =>
        new Promise<void>((done) => {
          if (req.write(chunk)) done();
          else req.once('drain', done);
        });
      await write(head);
      for await (const chunk of source as AsyncIterable<Buffer>) {
        if (answered || settled) return;
        await write(chunk);
        sent += chunk.length;
        onSent(sent);
      }
      if (answered || settled) return;
      if (sent !== file.size) throw new CliError(`${file.name}: the file changed while it was being sent (${sent} bytes read, ${file.size} expected)`, EXIT.usage);
      req.end(tail);
    };
    send().catch(fail);
  });
}

/**
 * Submits a file with a multipart POST /protect (fields first, then the image), the upload's
 * progress reported as it goes; the router's 202 answer. Asked again after 429/503 (the
 * idempotency key in the fields makes a repeat the same job).
 */
export async function multipartSubmit(
  conn: Connection,
  path: string,
  fields: Record<string, string>,
  file: LocalFile,
  subject: Subject,
  hooks: UploadHooks,
): Promise<{ job_id: string; status: string }> {
  const attempt = async () => {
    let answer: Answer;
    try {
      answer = await post(conn, path, fields, file, (sent) => hooks.onProgress(sent, file.size));
    } catch (err) {
      throw networkError(err, conn.url) ?? err;
    }
    if (answer.status === 202 || answer.status === 200 || answer.status === 201) {
      try {
        return JSON.parse(answer.body) as { job_id: string; status: string };
      } catch {
        throw new CliError(`${subject.label}: the router's answer is not JSON (is ${conn.url} an Artorizer router?)`, EXIT.unavailable);
      }
    }
    const error = answerError(answer.status, answer.body, subject);
    if (isRetryable(answer.status)) throw new RetryableAnswer(error, parseRetryAfter(answer.retryAfter));
    throw error;
  };
  return withRetries(attempt, conn.retry, hooks.onWait);
}

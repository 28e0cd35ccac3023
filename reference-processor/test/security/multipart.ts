import net from 'node:net';

export const BOUNDARY = 'hostile-boundary-7f3a';

export type Part =
  | { name: string; value: string }
  /** `disposition` replaces the generated Content-Disposition parameters after `form-data; `. */
  | { name: string; filename: string; contentType: string; data: Buffer; disposition?: string };

/** A multipart/form-data body written byte for byte, so tests can send what no form library would. */
export function multipartBody(parts: Part[]): Buffer {
  const out: Buffer[] = [];
  for (const part of parts) {
    if ('value' in part) {
      out.push(Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="${part.name}"\r\n\r\n${part.value}\r\n`));
      continue;
    }
    const disposition = part.disposition ?? `name="${part.name}"; filename="${part.filename}"`;
    out.push(Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; ${disposition}\r\nContent-Type: ${part.contentType}\r\n\r\n`, 'utf8'));
    out.push(part.data, Buffer.from('\r\n'));
  }
  out.push(Buffer.from(`--${BOUNDARY}--\r\n`));
  return Buffer.concat(out);
}

export const MULTIPART_TYPE = `multipart/form-data; boundary=${BOUNDARY}`;

export function postJobs(httpUrl: string, body: Buffer): Promise<Response> {
  return fetch(`${httpUrl}/v1/jobs`, { method: 'POST', headers: { 'Content-Type': MULTIPART_TYPE }, body });
}

/**
 * Opens a connection, sends the request head (declaring the whole body's length) and the first
 * `cut` bytes of the body, and returns the socket so the test can hang up when it chooses.
 */
export async function sendPart(httpUrl: string, body: Buffer, cut: number): Promise<net.Socket> {
  const { hostname, port } = new URL(httpUrl);
  const socket = net.connect(Number(port), hostname);
  socket.on('error', () => undefined);
  await new Promise<void>((resolve) => socket.once('connect', resolve));
  const head = `POST /v1/jobs HTTP/1.1\r\nHost: ${hostname}\r\nContent-Type: ${MULTIPART_TYPE}\r\nContent-Length: ${body.length}\r\n\r\n`;
  await new Promise<void>((resolve, reject) => socket.write(Buffer.concat([Buffer.from(head), body.subarray(0, cut)]), (err) => (err ? reject(err) : resolve())));
  return socket;
}

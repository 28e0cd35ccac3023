import net from 'node:net';
import { LocalProcessor, LocalRouter, incomingFiles, startLocalProcessor, startLocalRouter } from '../harness';
import { MiB, multipart, pngLike, within } from '../wire';

/** Opens a socket to the router and sends a request head announcing `length` body bytes. */
async function openRequest(port: number, contentType: string, length: number): Promise<{ socket: net.Socket; closed: Promise<string> }> {
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => undefined);
  await new Promise((resolve) => socket.once('connect', resolve));
  let answer = '';
  socket.on('data', (d: Buffer) => (answer += d.toString('latin1')));
  const closed = new Promise<string>((resolve) => socket.once('close', () => resolve(answer)));
  socket.write(`POST /protect HTTP/1.1\r\nHost: x\r\nContent-Type: ${contentType}\r\nContent-Length: ${length}\r\n\r\n`);
  return { socket, closed };
}

describe('time limits on inbound requests', () => {
  let processor: LocalProcessor;
  let router: LocalRouter;

  beforeAll(async () => {
    processor = await startLocalProcessor();
    router = await startLocalRouter({ PROCESSOR_ADDR: processor.address, REQUEST_TIMEOUT_MS: '2000', REQUEST_IDLE_TIMEOUT_MS: '1000' });
  });

  afterAll(async () => {
    await router.stop(100);
    await processor.stop(0);
  });

  it('cuts a body sent one byte at a time at REQUEST_TIMEOUT_MS, and the relayed upload is given up', async () => {
    const { body, contentType } = multipart([
      { name: 'artist_name', value: 'Slow' },
      { name: 'artwork_title', value: 'Loris' },
      { name: 'image', value: pngLike(MiB), filename: 'a.png', type: 'image/png' },
    ]);
    const { socket, closed } = await openRequest(router.port, contentType, body.length);
    const started = Date.now();
    let sent = 0;
    const drip = setInterval(() => socket.write(body.subarray(sent, ++sent)), 100);
    try {
      await closed;
      const held = Date.now() - started;
      expect(held).toBeGreaterThanOrEqual(1900);
      expect(held).toBeLessThan(10_000);
    } finally {
      clearInterval(drip);
      socket.destroy();
    }
    expect(await within(5000, () => incomingFiles(processor).length === 0 && [...processor.processor.jobs.all()].length === 0)).toBe(true);
  });

  it('closes a connection that goes silent mid-body at REQUEST_IDLE_TIMEOUT_MS', async () => {
    const { body, contentType } = multipart([
      { name: 'artist_name', value: 'Silent' },
      { name: 'artwork_title', value: 'Pause' },
      { name: 'image', value: pngLike(MiB), filename: 'a.png', type: 'image/png' },
    ]);
    const { socket, closed } = await openRequest(router.port, contentType, body.length);
    const started = Date.now();
    socket.write(body.subarray(0, 4096));
    await closed;
    expect(Date.now() - started).toBeLessThan(5000);
    expect(await within(5000, () => incomingFiles(processor).length === 0)).toBe(true);
  });

  it('answers 400, not 500, to a malformed percent-encoding in a job id', async () => {
    const res = await fetch(`${router.url}/jobs/%E0%A4%A`);
    expect({ status: res.status, body: await res.json() }).toEqual({ status: 400, body: { error: 'malformed percent-encoding in the URL' } });
  });
});

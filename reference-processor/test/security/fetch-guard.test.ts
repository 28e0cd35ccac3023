import { once } from 'node:events';
import http from 'node:http';
import { AddressInfo } from 'node:net';
import { JobErrorReason, JobState } from '@artorizer/contract';
import { ContractClient, makePng, specFor } from '@artorizer/testkit';
import { Target, startTarget } from '../contract/target';

/*
 * The processor checks the address of every connection it makes for an image URL, redirects
 * included, whatever the router checked before: a SubmitJobByReference straight to it, or a
 * URL that redirects inward later, reaches no internal address, and every refusal reads alike.
 */

const GENERIC = 'fetching the image failed: its URL could not be reached or is not allowed';

interface Server {
  url: string;
  requests: string[];
  close(): Promise<void>;
}

async function serve(host: string, handler: (req: http.IncomingMessage, res: http.ServerResponse) => void): Promise<Server> {
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    handler(req, res);
  });
  server.listen(0, host);
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return { url: `http://${host}:${port}`, requests, close: () => new Promise((r) => server.close(() => r())) };
}

let png: Buffer;
let internal: Server;
let target: Target;
let client: ContractClient;

beforeAll(async () => {
  png = await makePng();
  internal = await serve('127.0.0.1', (_req, res) => res.writeHead(200, { 'Content-Type': 'image/png' }).end(png));
});

afterAll(async () => {
  await internal.close();
});

afterEach(async () => {
  client.close();
  await target.stop();
});

async function start(allowlist: string): Promise<void> {
  target = await startTarget({ IMAGE_URL_ALLOWLIST: allowlist });
  client = new ContractClient(target.address);
}

async function fetchOutcome(url: string) {
  const job = await client.submitByReference(specFor(), { location: { $case: 'http', http: { url } } });
  const end = await client.waitForEnd(job.jobId);
  return { state: end.state, reason: end.error?.reason, message: end.error?.message };
}

const refused = { state: JobState.JOB_STATE_FAILED, reason: JobErrorReason.JOB_ERROR_REASON_FETCH_FAILED, message: GENERIC };

describe('image URL fetches by the processor', () => {
  it('refuses loopback by address and by name, open port or closed, with one message, and sends nothing', async () => {
    await start('');
    const closed = await serve('127.0.0.1', () => undefined);
    await closed.close();
    expect(await fetchOutcome(`${internal.url}/secret.png`)).toEqual(refused);
    expect(await fetchOutcome(`${closed.url}/secret.png`)).toEqual(refused);
    expect(await fetchOutcome(internal.url.replace('127.0.0.1', 'localhost') + '/secret.png')).toEqual(refused);
    expect(await fetchOutcome(internal.url.replace('127.0.0.1', '[::ffff:127.0.0.1]') + '/secret.png')).toEqual(refused);
    expect(internal.requests).toEqual([]);
  });

  it('checks every redirect hop when it connects: an allowed server answering HEAD 200 and GET 302 inward gets nothing out', async () => {
    // 127.0.0.2 stands for a public server here (allowed); 127.0.0.1 for the internal network.
    await start('127.0.0.2');
    const redirector = await serve('127.0.0.2', (req, res) => {
      if (req.method === 'HEAD') res.writeHead(200, { 'Content-Type': 'image/png' }).end();
      else res.writeHead(302, { Location: `${internal.url}/secret.png` }).end();
    });
    try {
      expect(await fetchOutcome(`${redirector.url}/art.png`)).toEqual(refused);
      expect(redirector.requests).toEqual(['GET /art.png']);
      expect(internal.requests).toEqual([]);
    } finally {
      await redirector.close();
    }
  });

  it('follows redirects between allowed addresses and fetches the image', async () => {
    await start('127.0.0.1');
    const redirector = await serve('127.0.0.1', (_req, res) => res.writeHead(302, { Location: `${internal.url}/art.png` }).end());
    try {
      expect((await fetchOutcome(`${redirector.url}/moved.png`)).state).toBe(JobState.JOB_STATE_COMPLETED);
      expect(internal.requests).toContain('GET /art.png');
    } finally {
      await redirector.close();
      internal.requests.length = 0;
    }
  });
});

import { once } from 'node:events';
import net from 'node:net';
import { AddressPolicy, ForbiddenAddressError, guardedLookup } from '../src';

/** Connects to localhost:port through the guarded lookup; resolves with the error or 'connected'. */
async function connect(policy: AddressPolicy, host: string, port: number): Promise<string | Error> {
  const socket = net.connect({ host, port, lookup: guardedLookup(policy) });
  try {
    await once(socket, 'connect');
    return 'connected';
  } catch (err) {
    return err as Error;
  } finally {
    socket.destroy();
  }
}

describe('guardedLookup', () => {
  let server: net.Server;
  let port: number;

  beforeAll(async () => {
    server = net.createServer((s) => s.end()).listen(0, '127.0.0.1');
    await once(server, 'listening');
    port = (server.address() as net.AddressInfo).port;
  });

  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('refuses a name that resolves to loopback, with a message that names no address', async () => {
    const err = await connect(new AddressPolicy([]), 'localhost', port);
    expect(err).toBeInstanceOf(ForbiddenAddressError);
    expect((err as Error).message).toBe('connection to a forbidden address refused');
    expect((err as ForbiddenAddressError).detail).toMatch(/localhost resolves to a loopback address/);
  });

  it('refuses cloud metadata host names without resolving them', async () => {
    expect(await connect(new AddressPolicy([]), 'metadata.google.internal', 80)).toBeInstanceOf(ForbiddenAddressError);
  });

  it('lets a listed range or host name through', async () => {
    expect(await connect(new AddressPolicy(['127.0.0.0/8', '::1/128']), 'localhost', port)).toBe('connected');
    expect(await connect(new AddressPolicy(['localhost']), 'localhost', port)).toBe('connected');
  });
});

describe('AddressPolicy.refusal', () => {
  const policy = new AddressPolicy(['10.1.0.0/16']);

  it.each([
    ['127.0.0.1', 'a loopback'],
    ['169.254.169.254', 'a cloud metadata'],
    ['192.168.1.1', 'a private'],
    ['::ffff:127.0.0.1', 'a loopback'],
    ['fd00::1', 'a private'],
  ])('refuses %s as %s', (address, label) => {
    expect(policy.refusal(address)).toBe(label);
  });

  it.each(['93.184.216.34', '2606:2800:220:1:248:1893:25c8:1946', '10.1.2.3'])('allows %s', (address) => {
    expect(policy.refusal(address)).toBeUndefined();
  });
});

import http from 'node:http';
import { AddressInfo } from 'node:net';
import { UrlPolicy, UrlRejectedError, checkUrlTarget, parsePolicyList, resolveFinalUrl } from '../../src/security/url-guard';

const noDns = (): Promise<string[]> => Promise.reject(new Error('resolver must not be called'));
const open: UrlPolicy = { allowlist: [], resolve: noDns };

async function rejection(promise: Promise<unknown>): Promise<UrlRejectedError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof UrlRejectedError)) throw new Error(`expected UrlRejectedError, got ${String(err)}`);
  return err;
}

describe('parsePolicyList', () => {
  it('splits, trims and drops empty entries', () => {
    expect(parsePolicyList(undefined)).toEqual([]);
    expect(parsePolicyList(' , ')).toEqual([]);
    expect(parsePolicyList(' 10.0.0.0/8 , ,images.internal,::1/128,10.1.2.3 ')).toEqual(['10.0.0.0/8', 'images.internal', '::1/128', '10.1.2.3']);
  });

  it.each(['10.0.0.0/33', '10.0.0.300/8', 'not-a-cidr/8', '::1/129', 'bad host'])('throws on %p', (entry) => {
    expect(() => parsePolicyList(`10.0.0.0/8,${entry}`)).toThrow(entry);
  });
});

describe('checkUrlTarget', () => {
  it('relies on WHATWG parsing to normalise shorthand IPv4', () => {
    expect(new URL('http://127.1/').hostname).toBe('127.0.0.1');
    expect(new URL('http://0x7f000001/').hostname).toBe('127.0.0.1');
    expect(new URL('http://2130706433/').hostname).toBe('127.0.0.1');
  });

  it.each([
    ['http://127.0.0.1/', 'image_url resolves to a loopback address (127.0.0.1)'],
    ['http://127.1/', 'image_url resolves to a loopback address (127.0.0.1)'],
    ['http://0x7f000001/', 'image_url resolves to a loopback address (127.0.0.1)'],
    ['http://2130706433/', 'image_url resolves to a loopback address (127.0.0.1)'],
    ['http://[::1]/', 'image_url resolves to a loopback address (::1)'],
    ['http://[::ffff:127.0.0.1]/', 'image_url resolves to a loopback address (::ffff:7f00:1)'],
    ['http://[::ffff:7f00:1]/', 'image_url resolves to a loopback address (::ffff:7f00:1)'],
    ['http://10.0.0.5/', 'image_url resolves to a private address (10.0.0.5)'],
    ['http://172.16.4.2/', 'image_url resolves to a private address (172.16.4.2)'],
    ['http://192.168.1.1/', 'image_url resolves to a private address (192.168.1.1)'],
    ['http://169.254.169.254/latest/meta-data', 'image_url resolves to a cloud metadata address (169.254.169.254)'],
    ['http://169.254.1.1/', 'image_url resolves to a link-local address (169.254.1.1)'],
    ['http://100.64.0.1/', 'image_url resolves to a carrier-grade NAT address (100.64.0.1)'],
    ['http://[fe80::1]/', 'image_url resolves to a link-local address (fe80::1)'],
    ['http://[fc00::1]/', 'image_url resolves to a private address (fc00::1)'],
    ['http://[fd00:ec2::254]/', 'image_url resolves to a cloud metadata address (fd00:ec2::254)'],
    ['http://0.0.0.0/', 'image_url resolves to an unspecified address (0.0.0.0)'],
    ['http://[::]/', 'image_url resolves to an unspecified address (::)'],
    ['http://224.0.0.1/', 'image_url resolves to a multicast address (224.0.0.1)'],
    ['http://[ff02::1]/', 'image_url resolves to a multicast address (ff02::1)'],
    ['http://255.255.255.255/', 'image_url resolves to a broadcast address (255.255.255.255)'],
    ['http://240.0.0.1/', 'image_url resolves to a reserved address (240.0.0.1)'],
    ['http://[2001:db8::1]/', 'image_url resolves to a reserved address (2001:db8::1)'],
    ['http://[::7f00:1]/', 'image_url resolves to a reserved address (::7f00:1)'],
    ['http://[64:ff9b::a00:1]/', 'image_url resolves to a private address (64:ff9b::a00:1)'],
    ['http://[2002:7f00:1::]/', 'image_url resolves to a loopback address (2002:7f00:1::)'],
    ['http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/', 'image_url resolves to a loopback address (2001:0:4136:e378:8000:63bf:80ff:fffe)'],
    ['http://metadata.google.internal/computeMetadata/v1/', 'image_url points to a cloud metadata endpoint'],
    ['http://METADATA./', 'image_url points to a cloud metadata endpoint'],
  ])('refuses %s', async (url, message) => {
    const err = await rejection(checkUrlTarget(url, open));
    expect(err.reason).toBe('forbidden_host');
    expect(err.message).toBe(message);
  });

  it.each([
    ['ftp://example.com/a.png', 'unsupported_scheme'],
    ['file:///etc/passwd', 'unsupported_scheme'],
    ['javascript:alert(1)', 'unsupported_scheme'],
    ['http://user:pass@example.com/a.png', 'credentials'],
    ['http://user@example.com/a.png', 'credentials'],
    ['not a url', 'invalid_url'],
    ['http://[::1/', 'invalid_url'],
  ])('refuses malformed %s', async (url, reason) => {
    expect((await rejection(checkUrlTarget(url, open))).reason).toBe(reason);
  });

  it.each(['http://93.184.216.34/a.png', 'https://93.184.216.34:8443/a.png', 'http://[2606:2800:220:1:248:1893:25c8:1946]/a.png', 'http://[64:ff9b::5db8:d822]/a.png'])(
    'allows public literal %s',
    async (url) => {
      expect((await checkUrlTarget(url, open)).href).toBe(url);
    },
  );

  describe('with DNS names', () => {
    const resolvingTo = (...addresses: string[]): UrlPolicy => ({ allowlist: [], resolve: async () => addresses });

    it('refuses a name when any resolved address is private', async () => {
      const err = await rejection(checkUrlTarget('http://mixed.example/a.png', resolvingTo('93.184.216.34', '10.0.0.1')));
      expect(err.message).toBe('image_url resolves to a private address (10.0.0.1)');
    });

    it('refuses names resolving to metadata or mapped private addresses', async () => {
      const metadata = await rejection(checkUrlTarget('http://a.example/', resolvingTo('169.254.169.254')));
      expect(metadata.message).toContain('cloud metadata');
      const mapped = await rejection(checkUrlTarget('http://b.example/', resolvingTo('::ffff:10.0.0.1')));
      expect(mapped.message).toContain('private');
    });

    it('allows a name resolving only to public addresses and passes it the host name', async () => {
      const resolve = jest.fn(async () => ['93.184.216.34', '2606:2800:220:1:248:1893:25c8:1946']);
      const url = await checkUrlTarget('https://Images.Example:8443/a.png?x=1', { allowlist: [], resolve });
      expect(url.href).toBe('https://images.example:8443/a.png?x=1');
      expect(resolve).toHaveBeenCalledWith('images.example');
    });

    it('gives up on a name that does not resolve in time', async () => {
      const hanging: UrlPolicy = { allowlist: [], resolve: () => new Promise<string[]>(() => undefined), resolveTimeoutMs: 200 };
      const err = await rejection(checkUrlTarget('http://slow.example/', hanging));
      expect(err.reason).toBe('unreachable');
      expect(err.message).toBe('image_url could not be reached: its host name did not resolve within 0.2 s');
    });

    it('reports unresolvable names without internals', async () => {
      const failing: UrlPolicy = {
        allowlist: [],
        resolve: () => Promise.reject(new Error('getaddrinfo ENOTFOUND nope.example')),
      };
      for (const policy of [failing, resolvingTo(), resolvingTo('garbage')]) {
        const err = await rejection(checkUrlTarget('http://nope.example/', policy));
        expect(err.reason).toBe('unreachable');
        expect(err.message).toBe('image_url could not be reached: host not found');
      }
    });

    it('uses the system resolver by default', async () => {
      const err = await rejection(checkUrlTarget('http://localhost/', { allowlist: [] }));
      expect(err.message).toMatch(/^image_url resolves to a loopback address/);
    });
  });

  describe('with an allowlist', () => {
    it('allows addresses inside a CIDR entry, including their IPv4-mapped form', async () => {
      const policy: UrlPolicy = { allowlist: ['127.0.0.0/8'], resolve: noDns };
      expect((await checkUrlTarget('http://127.0.0.1:1234/x', policy)).href).toBe('http://127.0.0.1:1234/x');
      await expect(checkUrlTarget('http://[::ffff:127.0.0.1]/', policy)).resolves.toBeInstanceOf(URL);
      await expect(checkUrlTarget('http://[::1]/', policy)).rejects.toThrow(UrlRejectedError);
    });

    it('matches /32, /128 and bare-address entries exactly', async () => {
      const policy: UrlPolicy = { allowlist: ['10.1.2.3/32', '::1/128', '192.168.0.7'], resolve: noDns };
      await expect(checkUrlTarget('http://10.1.2.3/', policy)).resolves.toBeInstanceOf(URL);
      await expect(checkUrlTarget('http://[::1]/', policy)).resolves.toBeInstanceOf(URL);
      await expect(checkUrlTarget('http://192.168.0.7/', policy)).resolves.toBeInstanceOf(URL);
      await expect(checkUrlTarget('http://10.1.2.4/', policy)).rejects.toThrow('private address (10.1.2.4)');
    });

    it('applies CIDR entries to resolved addresses', async () => {
      const policy: UrlPolicy = { allowlist: ['10.0.0.0/8'], resolve: async () => ['10.0.0.1'] };
      await expect(checkUrlTarget('http://images.internal/', policy)).resolves.toBeInstanceOf(URL);
    });

    it('allows a host-name entry without resolving it, case-insensitively', async () => {
      const policy: UrlPolicy = { allowlist: ['Images.Internal', 'metadata.google.internal'], resolve: noDns };
      await expect(checkUrlTarget('http://images.internal/a.png', policy)).resolves.toBeInstanceOf(URL);
      await expect(checkUrlTarget('http://IMAGES.internal./a.png', policy)).resolves.toBeInstanceOf(URL);
      await expect(checkUrlTarget('http://metadata.google.internal/', policy)).resolves.toBeInstanceOf(URL);
      await expect(checkUrlTarget('http://other.internal/', policy)).rejects.toThrow(UrlRejectedError);
    });
  });
});

describe('resolveFinalUrl', () => {
  const hits = new Map<string, number>();
  let server: http.Server;
  let base: string;
  const local: UrlPolicy = { allowlist: ['127.0.0.1/32'], resolve: noDns };

  const routes: Record<string, (res: http.ServerResponse) => void> = {
    '/final': (res) => res.end('ok'),
    '/missing': (res) => res.writeHead(404).end(),
    '/to-final': (res) => res.writeHead(302, { location: `${base}/final` }).end(),
    '/chain': (res) => res.writeHead(307, { location: '/to-final' }).end(),
    '/dir/relative': (res) => res.writeHead(301, { location: 'target?q=1' }).end(),
    '/dir/target': (res) => res.end('ok'),
    '/to-metadata': (res) => res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data' }).end(),
    '/to-private': (res) => res.writeHead(303, { location: 'http://10.0.0.1/' }).end(),
    '/loop': (res) => res.writeHead(308, { location: '/loop' }).end(),
    '/no-location': (res) => res.writeHead(302).end(),
    // HEAD refused, so the guard falls back to GET: headers plus a body that never ends only
    // return if the guard does not read bodies.
    '/stream': (res) => {
      if (res.req.method === 'HEAD') return void res.writeHead(405).end();
      res.writeHead(200);
      res.write('x'.repeat(64 * 1024));
    },
    '/hang': () => undefined,
  };

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      hits.set(path, (hits.get(path) ?? 0) + 1);
      (routes[path] ?? ((r: http.ServerResponse) => r.writeHead(404).end()))(res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  beforeEach(() => hits.clear());

  it('returns the URL itself when it does not redirect, whatever the status', async () => {
    await expect(resolveFinalUrl(`${base}/final`, local)).resolves.toBe(`${base}/final`);
    await expect(resolveFinalUrl(`${base}/missing`, local)).resolves.toBe(`${base}/missing`);
    await expect(resolveFinalUrl(`${base}/no-location`, local)).resolves.toBe(`${base}/no-location`);
  });

  it('follows redirects to allowed targets and returns the final URL', async () => {
    await expect(resolveFinalUrl(`${base}/to-final`, local)).resolves.toBe(`${base}/final`);
    await expect(resolveFinalUrl(`${base}/chain`, local)).resolves.toBe(`${base}/final`);
  });

  it('resolves a relative Location against the current URL', async () => {
    await expect(resolveFinalUrl(`${base}/dir/relative`, local)).resolves.toBe(`${base}/dir/target?q=1`);
  });

  it('refuses a redirect to the metadata endpoint', async () => {
    const err = await rejection(resolveFinalUrl(`${base}/to-metadata`, local));
    expect(err.message).toBe('image_url resolves to a cloud metadata address (169.254.169.254)');
  });

  it('refuses a redirect to a private address', async () => {
    const err = await rejection(resolveFinalUrl(`${base}/to-private`, local));
    expect(err.message).toBe('image_url resolves to a private address (10.0.0.1)');
  });

  it('gives up on a redirect loop after maxRedirects', async () => {
    const err = await rejection(resolveFinalUrl(`${base}/loop`, { ...local, maxRedirects: 3 }));
    expect(err.reason).toBe('too_many_redirects');
    expect(err.message).toBe('image_url has too many redirects');
    expect(hits.get('/loop')).toBe(4);

    hits.clear();
    await expect(resolveFinalUrl(`${base}/loop`, local)).rejects.toThrow('too many redirects');
    expect(hits.get('/loop')).toBe(6);
  });

  it('refuses any redirect when maxRedirects is 0', async () => {
    await expect(resolveFinalUrl(`${base}/to-final`, { ...local, maxRedirects: 0 })).rejects.toThrow('too many redirects');
  });

  it('checks the start URL before sending anything', async () => {
    const err = await rejection(resolveFinalUrl(`${base}/final`, { allowlist: [], resolve: noDns }));
    expect(err.message).toBe('image_url resolves to a loopback address (127.0.0.1)');
    expect(hits.size).toBe(0);
  });

  it('does not download bodies', async () => {
    await expect(resolveFinalUrl(`${base}/stream`, local)).resolves.toBe(`${base}/stream`);
  });

  it('reports a timeout briefly', async () => {
    const err = await rejection(resolveFinalUrl(`${base}/hang`, { ...local, timeoutMs: 100 }));
    expect(err.reason).toBe('unreachable');
    expect(err.message).toBe('image_url could not be reached: timed out');
  });

  it('reports a refused connection briefly', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));

    const err = await rejection(resolveFinalUrl(`http://127.0.0.1:${port}/`, local));
    expect(err.message).toBe('image_url could not be reached: connection failed');
  });
});

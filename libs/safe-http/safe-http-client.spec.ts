import type { ServerResponse } from 'node:http';
import {
  SafeHttpClient,
  SafeHttpError,
  type ConnectTarget,
  type LookupFunction,
  type SafeHttpClientOptions,
  type SafeHttpErrorCode,
} from './index';
import { closedPort, startServer, type LocalServer } from './testing/local-server';
import { TEST_CERT } from './testing/tls-fixture';

// Real servers on loopback only. "Public" hosts exist only in stub lookups, and no socket is ever opened to a
// non-loopback address: they are either refused by the policy or vetoed in onConnect before connecting.

const LOOPBACK = ['127.0.0.0/8', '::1/128'];
const servers: LocalServer[] = [];
const clients: SafeHttpClient[] = [];

async function server(...args: Parameters<typeof startServer>): Promise<LocalServer> {
  const s = await startServer(...args);
  servers.push(s);
  return s;
}

function client(options: SafeHttpClientOptions = {}): SafeHttpClient {
  const c = new SafeHttpClient(options);
  clients.push(c);
  return c;
}

// A lookup that answers from a list of successive results per hostname (the last one repeats).
function scriptedLookup(script: Record<string, string[][]>) {
  const calls: string[] = [];
  const lookup: LookupFunction = async (hostname) => {
    calls.push(hostname);
    const answers = script[hostname];
    if (!answers) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    const seen = calls.filter((h) => h === hostname).length;
    const addresses = answers[Math.min(seen, answers.length) - 1];
    return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
  return { lookup, calls };
}

async function failure(promise: Promise<unknown>): Promise<SafeHttpError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(SafeHttpError);
    return err as SafeHttpError;
  }
  throw new Error('expected the request to fail');
}

async function codeOf(promise: Promise<unknown>): Promise<SafeHttpErrorCode> {
  return (await failure(promise)).code;
}

const ok = (res: ServerResponse) => res.end('ok');

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

describe('SafeHttpClient address policy', () => {
  it('refuses loopback by default without opening a connection', async () => {
    const v4 = await server((_req, res) => ok(res));
    const v6 = await server((_req, res) => ok(res), { host: '::1' });
    const c = client({ allowInsecureHttp: true });

    const err = await failure(c.request({ url: v4.url() }));
    expect(err).toMatchObject({ code: 'ssrf_blocked', reason: 'ssrf.private_address', address: '127.0.0.1' });
    expect(err.message).toContain('loopback');
    expect(await codeOf(c.request({ url: v6.url() }))).toBe('ssrf_blocked');
    expect(await codeOf(c.request({ url: `http://[::ffff:127.0.0.1]:${v4.port}/` }))).toBe('ssrf_blocked');
    expect(await codeOf(c.request({ url: `http://2130706433:${v4.port}/` }))).toBe('ssrf_blocked');
    expect(v4.connections + v6.connections).toBe(0);
  });

  it('reaches allow-listed loopback and sends the request as given', async () => {
    const s = await server((_req, res) => {
      res.writeHead(201, { 'x-reply': 'yes', 'content-type': 'text/plain' });
      res.end('created');
    });
    const c = client({ allowlist: LOOPBACK, allowInsecureHttp: true });

    const res = await c.request({
      method: 'POST',
      url: s.url('/hook?x=1#fragment'),
      headers: { 'content-type': 'application/json', 'x-hub-signature-256': 'sha256=abc' },
      body: '{"a":"ä"}',
    });

    expect(res).toMatchObject({ status: 201, truncated: false });
    expect(res.body.toString()).toBe('created');
    expect(res.headers['x-reply']).toBe('yes');
    expect(res.latencyMs).toBeGreaterThanOrEqual(0);
    expect(s.requests).toHaveLength(1);
    expect(s.requests[0]).toMatchObject({ method: 'POST', url: '/hook?x=1' });
    expect(s.requests[0].headers['x-hub-signature-256']).toBe('sha256=abc');
    expect(s.requests[0].body.toString('utf8')).toBe('{"a":"ä"}');
  });

  it('reaches IPv6 loopback and the IPv4-mapped form only when allow-listed', async () => {
    const v6 = await server((_req, res) => ok(res), { host: '::1' });
    const v4 = await server((_req, res) => ok(res));
    const c = client({ allowlist: LOOPBACK, allowInsecureHttp: true });
    expect((await c.request({ url: v6.url() })).status).toBe(200);
    expect((await c.request({ url: `http://[::ffff:127.0.0.1]:${v4.port}/` })).status).toBe(200);
  });

  it('refuses http: unless allowInsecureHttp, and other schemes and credentials always', async () => {
    const s = await server((_req, res) => ok(res));
    const strict = client({ allowlist: LOOPBACK });
    expect(await failure(strict.request({ url: s.url() }))).toMatchObject({
      code: 'invalid_url',
      reason: 'url.insecure_scheme',
    });
    const lax = client({ allowlist: LOOPBACK, allowInsecureHttp: true });
    expect(await failure(lax.request({ url: `http://u:p@127.0.0.1:${s.port}/` }))).toMatchObject({
      reason: 'url.credentials',
    });
    expect(await failure(lax.request({ url: 'file:///etc/passwd' }))).toMatchObject({
      reason: 'url.unsupported_scheme',
    });
    expect(s.connections).toBe(0);
  });
});

describe('SafeHttpClient connect-time checks', () => {
  it('connects to exactly the checked address and keeps the hostname for Host', async () => {
    // "localhost" resolves to 127.0.0.1 in /etc/hosts, but the lookup says 127.0.0.2, where the only server is.
    const s = await server((_req, res) => ok(res), { host: '127.0.0.2' });
    const { lookup } = scriptedLookup({ localhost: [['127.0.0.2']] });
    const targets: ConnectTarget[] = [];
    const c = client({
      allowlist: ['127.0.0.2/32'],
      allowInsecureHttp: true,
      lookup,
      onConnect: (t) => targets.push(t),
    });

    const res = await c.request({ url: `http://localhost:${s.port}/` });

    expect(res.status).toBe(200);
    expect(s.requests[0].localAddress).toBe('127.0.0.2');
    expect(s.requests[0].headers.host).toBe(`localhost:${s.port}`);
    expect(targets).toEqual([
      { protocol: 'http:', hostname: 'localhost', address: '127.0.0.2', family: 4, port: s.port },
    ]);
  });

  it('refuses a hostname that resolves to a private address, at connect time', async () => {
    const { lookup, calls } = scriptedLookup({ 'hooks.example.com': [['10.0.0.7']] });
    const onConnect = jest.fn();
    const c = client({ lookup, onConnect });

    const err = await failure(c.request({ url: 'https://hooks.example.com/webhook' }));

    expect(err).toMatchObject({ code: 'ssrf_blocked', reason: 'ssrf.private_address', address: '10.0.0.7' });
    expect(err.message).toBe('hooks.example.com resolves to an address in a refused range (private)');
    expect(calls).toEqual(['hooks.example.com']);
    expect(onConnect).not.toHaveBeenCalled();
  });

  it('defeats DNS rebinding: the second connection re-resolves and is refused', async () => {
    // Connection: close forces a new connection, hence a new lookup, for the second request.
    const s = await server(
      (_req, res) => {
        res.setHeader('connection', 'close');
        ok(res);
      },
      { host: '127.0.0.2' },
    );
    // 127.0.0.2 plays the public address; the rebound answer 127.0.0.1 is not allow-listed.
    const { lookup, calls } = scriptedLookup({ localhost: [['127.0.0.2'], ['127.0.0.1']] });
    const targets: string[] = [];
    const c = client({
      allowlist: ['127.0.0.2/32'],
      allowInsecureHttp: true,
      lookup,
      onConnect: (t) => targets.push(t.address),
    });
    const url = `http://localhost:${s.port}/`;

    expect((await c.request({ url })).status).toBe(200);
    expect(await failure(c.request({ url }))).toMatchObject({ code: 'ssrf_blocked', address: '127.0.0.1' });

    expect(calls).toEqual(['localhost', 'localhost']);
    expect(targets).toEqual(['127.0.0.2']);
    expect(s.connections).toBe(1);
  });

  it('refuses when any of the resolved addresses is refused', async () => {
    const s = await server((_req, res) => ok(res), { host: '127.0.0.2' });
    const { lookup } = scriptedLookup({ localhost: [['127.0.0.2', '169.254.169.254']] });
    const onConnect = jest.fn();
    const c = client({ allowlist: ['127.0.0.2/32'], allowInsecureHttp: true, lookup, onConnect });

    expect(await failure(c.request({ url: `http://localhost:${s.port}/` }))).toMatchObject({
      code: 'ssrf_blocked',
      address: '169.254.169.254',
    });
    expect(onConnect).not.toHaveBeenCalled();
    expect(s.connections).toBe(0);
  });

  it('tries the next checked address when one refuses the connection', async () => {
    const s = await server((_req, res) => ok(res), { host: '127.0.0.2' });
    const { lookup } = scriptedLookup({ localhost: [['127.0.0.3', '127.0.0.2']] });
    const targets: string[] = [];
    const c = client({
      allowlist: LOOPBACK,
      allowInsecureHttp: true,
      lookup,
      onConnect: (t) => targets.push(t.address),
    });

    expect((await c.request({ url: `http://localhost:${s.port}/` })).status).toBe(200);
    expect(targets).toEqual(['127.0.0.3', '127.0.0.2']);
  });

  it('lets onConnect veto an attempt before any socket is opened', async () => {
    const s = await server((_req, res) => ok(res));
    const veto = new SafeHttpError('unknown', 'vetoed');
    const c = client({
      allowlist: LOOPBACK,
      allowInsecureHttp: true,
      onConnect: () => {
        throw veto;
      },
    });
    expect(await failure(c.request({ url: s.url() }))).toBe(veto);
    expect(s.connections).toBe(0);
  });

  it('heads for the resolved public address and port (vetoed before connecting)', async () => {
    const { lookup } = scriptedLookup({ 'hooks.example.com': [['93.184.216.34']] });
    const targets: ConnectTarget[] = [];
    const c = client({
      lookup,
      onConnect: (t) => {
        targets.push(t);
        throw new SafeHttpError('unknown', 'test: never connect to a public address');
      },
    });
    await failure(c.request({ url: 'https://hooks.example.com/webhook' }));
    expect(targets).toEqual([
      { protocol: 'https:', hostname: 'hooks.example.com', address: '93.184.216.34', family: 4, port: 443 },
    ]);
  });

  it('classifies resolver failures as dns', async () => {
    const { lookup } = scriptedLookup({});
    expect(await failure(client({ lookup }).request({ url: 'https://nowhere.example.com/' }))).toMatchObject({
      code: 'dns',
      reason: 'dns.not_found',
    });
  });
});

describe('SafeHttpClient TLS', () => {
  it('verifies the certificate against the hostname and sends it as SNI, while connecting to the checked address', async () => {
    const s = await server((_req, res) => ok(res), { host: '127.0.0.2', tls: true });
    const { lookup } = scriptedLookup({ localhost: [['127.0.0.2']] });
    const c = client({ allowlist: LOOPBACK, lookup, ca: TEST_CERT });

    const res = await c.request({ url: `https://localhost:${s.port}/` });

    expect(res.status).toBe(200);
    expect(s.requests[0]).toMatchObject({ localAddress: '127.0.0.2', servername: 'localhost' });
  });

  it('checks an IP-literal URL against the IP in the certificate', async () => {
    const s = await server((_req, res) => ok(res), { tls: true });
    const c = client({ allowlist: LOOPBACK, ca: TEST_CERT });
    expect((await c.request({ url: s.url() })).status).toBe(200);
  });

  it('fails with tls on an untrusted certificate or an address it does not cover', async () => {
    const s = await server((_req, res) => ok(res), { host: '127.0.0.2', tls: true });
    const { lookup } = scriptedLookup({ localhost: [['127.0.0.2']] });
    expect(await codeOf(client({ allowlist: LOOPBACK, lookup }).request({ url: `https://localhost:${s.port}/` }))).toBe(
      'tls',
    );
    // The certificate names localhost and 127.0.0.1, not 127.0.0.2.
    const trusting = client({ allowlist: LOOPBACK, ca: TEST_CERT });
    expect(await codeOf(trusting.request({ url: s.url() }))).toBe('tls');
    expect(s.requests).toHaveLength(0);
  });
});

describe('SafeHttpClient connectTo', () => {
  it('routes host:443 to the local address and port without a lookup, keeping the name for SNI, Host and the certificate', async () => {
    const s = await server((_req, res) => ok(res), { host: '127.0.0.2', tls: true });
    const { lookup, calls } = scriptedLookup({});
    const targets: ConnectTarget[] = [];
    const c = client({
      allowlist: LOOPBACK,
      lookup,
      ca: TEST_CERT,
      connectTo: [{ host: 'localhost', port: 443, address: '127.0.0.2', toPort: s.port }],
      onConnect: (t) => targets.push(t),
    });

    expect((await c.request({ url: 'https://localhost/hello' })).status).toBe(200);
    expect(s.requests[0]).toMatchObject({ url: '/hello', localAddress: '127.0.0.2', servername: 'localhost' });
    expect(s.requests[0].headers.host).toBe('localhost');
    expect(targets).toEqual([
      { protocol: 'https:', hostname: 'localhost', address: '127.0.0.2', family: 4, port: s.port },
    ]);
    expect(await c.assertSafeUrl('https://localhost/')).toMatchObject({ ok: true, addresses: ['127.0.0.2'] });
    expect(calls).toEqual([]);
  });

  it('still checks the routed address: refused without the allow-list, before any socket', async () => {
    const s = await server((_req, res) => ok(res), { host: '127.0.0.2', tls: true });
    const { lookup, calls } = scriptedLookup({});
    const c = client({
      lookup,
      ca: TEST_CERT,
      connectTo: [{ host: 'localhost', port: 443, address: '127.0.0.2', toPort: s.port }],
    });

    const err = await failure(c.request({ url: 'https://localhost/' }));
    expect(err).toMatchObject({ code: 'ssrf_blocked', address: '127.0.0.2' });
    expect(err.message).toContain('localhost:443 is routed to an address in a refused range (loopback)');
    expect(await c.assertSafeUrl('https://localhost/')).toMatchObject({ ok: false, reason: 'ssrf.private_address' });
    expect(s.connections).toBe(0);
    expect(calls).toEqual([]);
  });

  it('routes only the listed port: another port of the host is resolved as usual', async () => {
    const { lookup, calls } = scriptedLookup({ localhost: [['10.0.0.9']] });
    const c = client({
      allowlist: LOOPBACK,
      lookup,
      connectTo: [{ host: 'localhost', port: 443, address: '127.0.0.2', toPort: 1 }],
    });
    expect(await codeOf(c.request({ url: 'https://localhost:8443/' }))).toBe('ssrf_blocked');
    expect(calls).toEqual(['localhost']);
  });
});

describe('SafeHttpClient responses', () => {
  const lax = () => client({ allowlist: LOOPBACK, allowInsecureHttp: true });

  it('returns a redirect as it is, without following it', async () => {
    const s = await server((_req, res) => {
      res.writeHead(302, { location: '/elsewhere' });
      res.end();
    });
    const res = await lax().request({ url: s.url('/start') });
    expect(res.status).toBe(302);
    expect(res.headers.location).toBe('/elsewhere');
    expect(s.requests.map((r) => r.url)).toEqual(['/start']);
  });

  it('truncates an endless response at the cap and stops reading', async () => {
    let closed!: () => void;
    const serverGaveUp = new Promise<void>((resolve) => (closed = resolve));
    const s = await server((_req, res) => {
      const chunk = Buffer.alloc(64 * 1024, 'a');
      res.on('close', closed);
      const pump = () => {
        while (!res.destroyed && res.write(chunk));
        if (!res.destroyed) res.once('drain', pump);
      };
      pump();
    });

    const res = await lax().request({ url: s.url(), maxResponseBytes: 100_000 });

    expect(res.truncated).toBe(true);
    expect(res.body).toEqual(Buffer.alloc(100_000, 'a'));
    await serverGaveUp; // the client hung up instead of draining the stream
  });

  it('keeps a body of exactly the cap whole, and cuts one byte more', async () => {
    const s = await server((req, res) => res.end(Buffer.alloc(req.url === '/exact' ? 1000 : 1001, 'b')));
    const c = client({ allowlist: LOOPBACK, allowInsecureHttp: true, maxResponseBytes: 1000 });
    expect(await c.request({ url: s.url('/exact') })).toMatchObject({
      truncated: false,
      body: Buffer.alloc(1000, 'b'),
    });
    expect(await c.request({ url: s.url('/more') })).toMatchObject({ truncated: true, body: Buffer.alloc(1000, 'b') });
  });

  it('fails with body_too_large when asked to, with or without a Content-Length', async () => {
    const s = await server((req, res) => {
      if (req.url === '/declared') return res.end(Buffer.alloc(1200)); // Content-Length: 1200
      if (req.url === '/chunked') res.write(Buffer.alloc(600)); // no Content-Length: the cut comes while reading
      res.end(Buffer.alloc(600));
    });
    const c = lax();
    for (const path of ['/declared', '/chunked']) {
      expect(await codeOf(c.request({ url: s.url(path), maxResponseBytes: 1000, onOversize: 'error' }))).toBe(
        'body_too_large',
      );
    }
    expect((await c.request({ url: s.url('/small'), maxResponseBytes: 1000, onOversize: 'error' })).body).toHaveLength(
      600,
    );
  });

  it('times out on a server that never answers', async () => {
    const s = await server(() => undefined);
    const err = await failure(lax().request({ url: s.url(), timeoutMs: 100 }));
    expect(err.code).toBe('timeout');
    expect(err.message).toContain('within 100 ms');
  });

  it('times out on a server that sends headers and then stalls the body', async () => {
    const s = await server((_req, res) => {
      res.writeHead(200, { 'content-length': '100' });
      res.write('partial');
    });
    expect(await codeOf(lax().request({ url: s.url(), timeoutMs: 100 }))).toBe('timeout');
  });

  it('times out on a lookup that never answers', async () => {
    const never: LookupFunction = () => new Promise(() => undefined);
    const c = client({ lookup: never, connectTimeoutMs: 50 });
    expect(await failure(c.request({ url: 'https://slow.example.com/', timeoutMs: 5_000 }))).toMatchObject({
      code: 'dns',
      reason: 'dns.timeout',
    });
  });

  it('reports a refused connection', async () => {
    const port = await closedPort();
    expect(await codeOf(lax().request({ url: `http://127.0.0.1:${port}/` }))).toBe('connect_refused');
  });

  it('reports a connection the server drops', async () => {
    const s = await server((req) => req.socket.destroy());
    expect(await codeOf(lax().request({ url: s.url() }))).toBe('connection_reset');
  });

  it('reports a caller abort as aborted', async () => {
    const s = await server(() => undefined);
    const controller = new AbortController();
    const pending = lax().request({ url: s.url(), signal: controller.signal });
    await new Promise<void>((resolve) => {
      const wait = () => (s.requests.length > 0 ? resolve() : setImmediate(wait));
      wait();
    });
    controller.abort();
    expect(await codeOf(pending)).toBe('aborted');
    const already = new AbortController();
    already.abort();
    expect(await codeOf(lax().request({ url: s.url(), signal: already.signal }))).toBe('aborted');
  });

  it('refuses requests once closed', async () => {
    const c = lax();
    await c.close();
    expect(await codeOf(c.request({ url: 'http://127.0.0.1:1/' }))).toBe('closed');
  });
});

describe('SafeHttpClient.stream', () => {
  const lax = () => client({ allowlist: LOOPBACK, allowInsecureHttp: true });

  // Reads a stream to its end, or to its error.
  async function drain(body: NodeJS.ReadableStream): Promise<{ bytes: number; error?: SafeHttpError }> {
    let bytes = 0;
    try {
      for await (const chunk of body) bytes += (chunk as Buffer).length;
      return { bytes };
    } catch (err) {
      expect(err).toBeInstanceOf(SafeHttpError);
      return { bytes, error: err as SafeHttpError };
    }
  }

  it('answers on the headers, before the server has sent the whole body', async () => {
    let finish!: () => void;
    const s = await server((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.write(Buffer.alloc(1000, 'a'));
      // The rest only once the client has its response in hand: a buffering client would wait forever.
      finish = () => res.end(Buffer.alloc(500, 'b'));
    });
    const res = await lax().stream({ url: s.url(), maxResponseBytes: 10_000 });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/octet-stream');
    finish();
    expect(await drain(res.body)).toEqual({ bytes: 1500 });
  });

  it('fails body_too_large on a declared length at once, and mid-stream without one, hanging up', async () => {
    let closed!: () => void;
    const serverGaveUp = new Promise<void>((resolve) => (closed = resolve));
    const s = await server((req, res) => {
      if (req.url === '/declared') return res.end(Buffer.alloc(1200));
      const chunk = Buffer.alloc(16 * 1024, 'a');
      res.on('close', closed);
      const pump = () => {
        while (!res.destroyed && res.write(chunk));
        if (!res.destroyed) res.once('drain', pump);
      };
      pump();
    });
    const c = lax();
    expect(await codeOf(c.stream({ url: s.url('/declared'), maxResponseBytes: 1000 }))).toBe('body_too_large');
    const res = await c.stream({ url: s.url('/endless'), maxResponseBytes: 100_000 });
    const got = await drain(res.body);
    expect(got.error?.code).toBe('body_too_large');
    expect(got.bytes).toBeLessThanOrEqual(100_000);
    await serverGaveUp;
  });

  it('closes the connection when the consumer destroys the body', async () => {
    let closed!: () => void;
    const serverGaveUp = new Promise<void>((resolve) => (closed = resolve));
    const s = await server((_req, res) => {
      res.on('close', closed);
      res.writeHead(200);
      res.write('first');
    });
    const res = await lax().stream({ url: s.url(), maxResponseBytes: 1000 });
    res.body.destroy();
    await serverGaveUp;
  });

  it('keeps the deadline running while the body streams', async () => {
    const s = await server((_req, res) => {
      res.writeHead(200, { 'content-length': '100' });
      res.write('partial');
    });
    const res = await lax().stream({ url: s.url(), timeoutMs: 200 });
    expect((await drain(res.body)).error?.code).toBe('timeout');
  });

  it('refuses what request() refuses, before connecting', async () => {
    expect(await codeOf(client().stream({ url: 'http://127.0.0.1:1/' }))).toBe('invalid_url');
    expect(await codeOf(client({ allowInsecureHttp: true }).stream({ url: 'http://127.0.0.1:1/' }))).toBe(
      'ssrf_blocked',
    );
  });
});

describe('SafeHttpClient pooling', () => {
  it('reuses one connection per origin when capped at one', async () => {
    const s = await server((_req, res) => ok(res));
    const c = client({ allowlist: LOOPBACK, allowInsecureHttp: true, connectionsPerOrigin: 1 });
    const results = await Promise.all(Array.from({ length: 5 }, () => c.request({ url: s.url() })));
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    expect(s.connections).toBe(1);
  });

  it('opens up to the cap in parallel', async () => {
    // The server answers only once three requests are in flight at once.
    const held: ServerResponse[] = [];
    const s = await server((_req, res) => {
      held.push(res);
      if (held.length === 3) held.forEach(ok);
    });
    const c = client({ allowlist: LOOPBACK, allowInsecureHttp: true, connectionsPerOrigin: 3 });
    const results = await Promise.all(Array.from({ length: 3 }, () => c.request({ url: s.url() })));
    expect(results.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(s.connections).toBe(3);
  });
});

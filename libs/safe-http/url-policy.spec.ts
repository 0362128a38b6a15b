import { assertSafeUrl, type LookupAddress, type LookupFunction } from './index';

// Every lookup in these tests is a stub: nothing reaches a resolver or the network.
function stubLookup(table: Record<string, readonly string[] | Error>) {
  const calls: string[] = [];
  const lookup: LookupFunction = async (hostname) => {
    calls.push(hostname);
    const entry = table[hostname];
    if (entry === undefined) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    if (entry instanceof Error) throw entry;
    return entry.map((address): LookupAddress => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
  return { lookup, calls };
}

const { lookup } = stubLookup({
  'hooks.example.com': ['93.184.216.34', '2606:2800:220:1:248:1893:25c8:1946'],
  'internal.example.com': ['10.0.0.5'],
  'mixed.example.com': ['93.184.216.34', '192.168.1.10'],
  'metadata.example.com': ['169.254.169.254'],
  'mapped.example.com': ['::ffff:127.0.0.1'],
  'empty.example.com': [],
  'flaky.example.com': Object.assign(new Error('queryA ETIMEOUT'), { code: 'EAI_AGAIN' }),
  'localhost.dev.test': ['127.0.0.1'],
});

describe('assertSafeUrl', () => {
  it('accepts a public https URL and returns its addresses', async () => {
    const result = await assertSafeUrl('https://hooks.example.com/webhook?x=1', { lookup });
    expect(result).toMatchObject({
      ok: true,
      addresses: ['93.184.216.34', '2606:2800:220:1:248:1893:25c8:1946'],
    });
    expect(result.ok && result.url.pathname).toBe('/webhook');
  });

  it.each([
    ['not a url', 'url.invalid'],
    ['/relative/path', 'url.invalid'],
    ['ftp://hooks.example.com/', 'url.unsupported_scheme'],
    ['file:///etc/passwd', 'url.unsupported_scheme'],
    ['javascript:alert(1)', 'url.unsupported_scheme'],
    ['http://hooks.example.com/', 'url.insecure_scheme'],
    ['https://user:secret@hooks.example.com/', 'url.credentials'],
    ['https://user@hooks.example.com/', 'url.credentials'],
    ['https://nowhere.example.com/', 'dns.not_found'],
    ['https://empty.example.com/', 'dns.not_found'],
    ['https://flaky.example.com/', 'dns.failed'],
    ['https://internal.example.com/', 'ssrf.private_address'],
    ['https://mixed.example.com/', 'ssrf.private_address'],
    ['https://metadata.example.com/latest/meta-data/', 'ssrf.private_address'],
    ['https://mapped.example.com/', 'ssrf.private_address'],
    ['https://127.0.0.1/', 'ssrf.private_address'],
    ['https://[::1]/', 'ssrf.private_address'],
    ['https://[::ffff:169.254.169.254]/', 'ssrf.private_address'],
    ['https://[64:ff9b::a00:1]/', 'ssrf.private_address'],
    ['https://2130706433/', 'ssrf.private_address'], // 127.0.0.1 as one decimal number
    ['https://0x7f.1/', 'ssrf.private_address'], // 127.0.0.1 in hex shorthand
    ['https://0177.0.0.1/', 'ssrf.private_address'], // octal
    ['https://0/', 'ssrf.private_address'], // 0.0.0.0
  ])('refuses %s with %s', async (url, reason) => {
    const result = await assertSafeUrl(url, { lookup });
    expect(result).toMatchObject({ ok: false, reason });
    expect(result.ok ? '' : result.message).not.toBe('');
  });

  // The message reaches whoever chose the URL (a script, a bot's callback or upload): naming the address a private
  // name resolves to would map the internal network for them. The address stays on the result, for logs.
  it('names the host and the range in the refusal, not the address a hostname resolved to', async () => {
    expect(await assertSafeUrl('https://metadata.example.com/', { lookup })).toEqual({
      ok: false,
      reason: 'ssrf.private_address',
      message: 'metadata.example.com resolves to an address in a refused range (metadata)',
      address: '169.254.169.254',
      range: 'metadata',
    });
  });

  it('checks IP literals without a lookup', async () => {
    const spy = stubLookup({});
    expect(await assertSafeUrl('https://[::1]:8443/', { lookup: spy.lookup })).toMatchObject({ ok: false });
    expect(await assertSafeUrl('https://8.8.8.8/', { lookup: spy.lookup })).toMatchObject({
      ok: true,
      addresses: ['8.8.8.8'],
    });
    expect(spy.calls).toEqual([]);
  });

  it('allows http only when allowInsecureHttp is set, and loopback only when allow-listed', async () => {
    expect(await assertSafeUrl('http://hooks.example.com/', { lookup, allowInsecureHttp: true })).toMatchObject({
      ok: true,
    });
    const dev = { lookup, allowInsecureHttp: true, allowlist: ['127.0.0.0/8'] };
    expect(await assertSafeUrl('http://localhost.dev.test:3000/hook', dev)).toMatchObject({ ok: true });
    expect(await assertSafeUrl('http://internal.example.com/', dev)).toMatchObject({ reason: 'ssrf.private_address' });
  });

  it('gives up on a lookup that does not answer', async () => {
    const never: LookupFunction = () => new Promise(() => undefined);
    expect(await assertSafeUrl('https://slow.example.com/', { lookup: never, lookupTimeoutMs: 20 })).toMatchObject({
      ok: false,
      reason: 'dns.timeout',
    });
  });

  it('throws on an invalid allow-list, a configuration error', async () => {
    await expect(assertSafeUrl('https://hooks.example.com/', { lookup, allowlist: ['nope'] })).rejects.toThrow(
      TypeError,
    );
  });
});

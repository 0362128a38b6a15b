import { etagMatches, MediaUrlSigner, parseRangeHeader } from './media-url-signer';

describe('MediaUrlSigner', () => {
  const key = Buffer.alloc(32, 7);
  let now = 1_800_000_000_000;
  const signer = new MediaUrlSigner(key, 3600, () => now);

  it('verifies what it signed until it expires', () => {
    const { path, expiresAt } = signer.sign('123', 'display.jpg');
    const u = new URL(path, 'http://x');
    expect(u.pathname).toBe('/media/123/display.jpg');
    expect(signer.verify('123', 'display.jpg', u.searchParams.get('exp'), u.searchParams.get('sig'))).toBe('ok');
    now = expiresAt * 1000 + 1;
    expect(signer.verify('123', 'display.jpg', u.searchParams.get('exp'), u.searchParams.get('sig'))).toBe('expired');
  });

  it('signs its own URLs again with a fresh expiry, expired ones too, where the platform put them', () => {
    now = 1_800_000_000_000;
    const old = `https://sb.example${signer.sign('55', 'display.jpg').path}`;
    const forged = 'https://sb.example/media/55/display.jpg?exp=1800003600&sig=AAAA';
    const foreign = 'https://cdn.example/cat.jpg';
    now += 2 * 3600 * 1000; // past the first URL's expiry
    const media = `https://sb.example${signer.sign('56', 'original').path}`;
    const payload = {
      message: {
        attachments: [
          { type: 'image', payload: { url: old } },
          { payload: { url: foreign } },
          { type: 'template', payload: { template_type: 'media', elements: [{ media_type: 'video', url: media }] } },
        ],
        text: forged,
      },
    };
    const out = signer.resignUrls(payload);
    const video = new URL(String(out.message.attachments[2].payload.elements?.[0].url));
    expect(video.pathname).toBe('/media/56/original');
    expect(signer.verify('56', 'original', video.searchParams.get('exp'), video.searchParams.get('sig'))).toBe('ok');
    const fresh = new URL(String(out.message.attachments[0].payload.url));
    expect(fresh.origin + fresh.pathname).toBe('https://sb.example/media/55/display.jpg');
    expect(signer.verify('55', 'display.jpg', fresh.searchParams.get('exp'), fresh.searchParams.get('sig'))).toBe('ok');
    expect(out.message.attachments[1].payload.url).toBe(foreign);
    expect(out.message.text).toBe(forged);
    // The stored payload is not touched.
    expect(payload.message.attachments[0].payload.url).toBe(old);
  });

  it('leaves its own URLs alone anywhere a sender wrote them: text, template fields, postbacks', () => {
    now = 1_800_000_000_000;
    const old = `https://sb.example${signer.sign('57', 'display.jpg').path}`;
    now += 2 * 3600 * 1000;
    const item = {
      message: {
        text: `look ${old}`,
        attachments: [
          {
            type: 'template',
            payload: { template_type: 'generic', elements: [{ title: 't', image_url: old, default_action: { type: 'web_url', url: old } }] },
          },
        ],
      },
      postback: { title: 't', payload: old },
    };
    expect(signer.resignUrls(item)).toEqual(item);
  });

  it('refuses another variant, id, expiry or key', () => {
    const u = new URL(signer.sign('123', 'thumb.webp', 9_999_999_999).path, 'http://x');
    const exp = u.searchParams.get('exp')!;
    const sig = u.searchParams.get('sig')!;
    expect(signer.verify('123', 'thumb.webp', exp, sig)).toBe('ok');
    expect(signer.verify('123', 'original', exp, sig)).toBe('bad_signature');
    expect(signer.verify('124', 'thumb.webp', exp, sig)).toBe('bad_signature');
    expect(signer.verify('123', 'thumb.webp', String(Number(exp) + 1), sig)).toBe('bad_signature');
    expect(new MediaUrlSigner(Buffer.alloc(32, 8), 3600).verify('123', 'thumb.webp', exp, sig)).toBe('bad_signature');
    expect(signer.verify('123', 'thumb.webp', undefined, undefined)).toBe('bad_signature');
  });
});

describe('parseRangeHeader', () => {
  it.each([
    ['bytes=0-99', 1000, { start: 0, end: 99 }],
    ['bytes=900-', 1000, { start: 900, end: 999 }],
    ['bytes=-100', 1000, { start: 900, end: 999 }],
    ['bytes=0-5000', 1000, { start: 0, end: 999 }],
    ['bytes=1000-', 1000, 'invalid'],
    ['bytes=5-2', 1000, 'invalid'],
    ['bytes=-0', 1000, 'invalid'],
    ['bytes=abc', 1000, 'invalid'],
    ['bytes=0-1,5-6', 1000, null],
    ['items=0-1', 1000, null],
    [undefined, 1000, null],
  ])('%s of %d → %j', (h, size, want) => {
    expect(parseRangeHeader(h, size)).toEqual(want);
  });
});

it('etagMatches handles lists, weak forms and *', () => {
  expect(etagMatches('"a", "b"', '"b"')).toBe(true);
  expect(etagMatches('W/"b"', '"b"')).toBe(true);
  expect(etagMatches('*', '"b"')).toBe(true);
  expect(etagMatches('"c"', '"b"')).toBe(false);
  expect(etagMatches(undefined, '"b"')).toBe(false);
});

import fc from 'fast-check';
import { signMessenger, verifyMessenger } from './index';

// Expected values computed independently with OpenSSL 3.0, e.g.
//   printf '%s' "$BODY" | openssl dgst -sha256 -hmac "$SECRET" -r
const SECRET = '0123456789abcdef0123456789abcdef';
const OTHER_SECRET = 'fedcba9876543210fedcba9876543210';

const VECTORS = [
  {
    name: 'ASCII page event',
    body: Buffer.from('{"object":"page","entry":[{"id":"1234","time":1700000000000,"messaging":[]}]}', 'utf8'),
    sha256: '21b7da1061917136b8352a66027cef435e0e923588a05d69dcbe86f4d736ed3b',
    sha1: 'db1e67e155259612f704bf119468feecf3c048b8',
  },
  {
    name: 'raw UTF-8 äöå and emoji',
    body: Buffer.from('7b2274657874223a22c3a4c3b6c3a520f09f918d227d', 'hex'), // {"text":"äöå 👍"}
    sha256: 'c578563cf3afe58b88ad14a15e3c3ab7398ca6d5fdc45d3493588cdf8f8eb48f',
    sha1: '6c39e05bcf74480fdd4b82a5122a95028e9d9fe7',
  },
  {
    name: 'the same text with \\u escapes',
    body: Buffer.from('{"text":"\\u00e4\\u00f6\\u00e5 \\ud83d\\udc4d"}', 'utf8'),
    sha256: 'dd6567c8ff8b9b0b8512309ae6b6e60ef88520de1fec1041892424e9d70b48c0',
    sha1: 'c024da4613b6d82b212830b47481059bb1f491d9',
  },
  {
    name: 'empty body',
    body: Buffer.alloc(0),
    sha256: '796cd3078af14636753d26b3b5555422ff55a3e261cf847b48e95371b9bd0aa2',
    sha1: '8a22708cf0dde70b0e75ead9575e659dce6a85b2',
  },
  {
    name: 'bytes that are not UTF-8',
    body: Buffer.from([0xff, 0xfe, 0x00, 0x80]),
    sha256: '1c56ef95c928e153424432f846ab2e65b7af18e9f4f6f8f0bc9a5264e7cdbc27',
    sha1: undefined,
  },
];

describe('signMessenger', () => {
  it.each(VECTORS)('matches OpenSSL for $name', ({ body, sha256, sha1 }) => {
    const headers = signMessenger(body, SECRET);
    expect(headers['x-hub-signature-256']).toBe(`sha256=${sha256}`);
    if (sha1) expect(headers['x-hub-signature']).toBe(`sha1=${sha1}`);
  });

  it('signs a string as its UTF-8 bytes', () => {
    expect(signMessenger('{"text":"äöå 👍"}', SECRET)['x-hub-signature-256']).toBe(
      'sha256=c578563cf3afe58b88ad14a15e3c3ab7398ca6d5fdc45d3493588cdf8f8eb48f',
    );
  });

  it('signs a Uint8Array view over exactly its own bytes', () => {
    const backing = Buffer.concat([Buffer.from('junk'), VECTORS[0].body, Buffer.from('junk')]);
    const view = new Uint8Array(backing.buffer, backing.byteOffset + 4, VECTORS[0].body.length);
    expect(signMessenger(view, SECRET)['x-hub-signature-256']).toBe(`sha256=${VECTORS[0].sha256}`);
  });

  it('refuses an empty secret', () => {
    expect(() => signMessenger('x', '')).toThrow(TypeError);
  });
});

describe('verifyMessenger', () => {
  it.each(VECTORS)('accepts the OpenSSL signature for $name', ({ body, sha256 }) => {
    expect(verifyMessenger(body, `sha256=${sha256}`, SECRET)).toBe(true);
  });

  it('distinguishes the raw UTF-8 body from its escaped-unicode form', () => {
    const [, raw, escaped] = VECTORS;
    expect(verifyMessenger(raw.body, `sha256=${escaped.sha256}`, SECRET)).toBe(false);
    expect(verifyMessenger(escaped.body, `sha256=${raw.sha256}`, SECRET)).toBe(false);
  });

  it('accepts uppercase hex and a one-element header array', () => {
    const { body, sha256 } = VECTORS[0];
    expect(verifyMessenger(body, `SHA256=${sha256.toUpperCase()}`, SECRET)).toBe(true);
    expect(verifyMessenger(body, [`sha256=${sha256}`], SECRET)).toBe(true);
  });

  it('accepts any secret of a rotation and refuses when none matches', () => {
    const { body, sha256 } = VECTORS[0];
    expect(verifyMessenger(body, `sha256=${sha256}`, [OTHER_SECRET, SECRET])).toBe(true);
    expect(verifyMessenger(body, `sha256=${sha256}`, [SECRET, OTHER_SECRET])).toBe(true);
    expect(verifyMessenger(body, `sha256=${sha256}`, [OTHER_SECRET])).toBe(false);
  });

  it('detects a tampered body', () => {
    const { body, sha256 } = VECTORS[0];
    const tampered = Buffer.from(body);
    tampered[tampered.length - 3] ^= 0x01;
    expect(verifyMessenger(tampered, `sha256=${sha256}`, SECRET)).toBe(false);
  });

  it('detects a tampered signature', () => {
    const { body, sha256 } = VECTORS[0];
    const flipped = (sha256[0] === '0' ? '1' : '0') + sha256.slice(1);
    expect(verifyMessenger(body, `sha256=${flipped}`, SECRET)).toBe(false);
  });

  it.each([
    ['missing', undefined],
    ['null', null],
    ['empty', ''],
    ['no prefix', VECTORS[0].sha256],
    ['sha1 form', `sha1=${VECTORS[0].sha1}`],
    ['short', `sha256=${VECTORS[0].sha256.slice(0, 62)}`],
    ['long', `sha256=${VECTORS[0].sha256}00`],
    ['not hex', `sha256=${'z'.repeat(64)}`],
    ['two values', [`sha256=${VECTORS[0].sha256}`, `sha256=${VECTORS[0].sha256}`]],
    ['empty array', []],
  ])('returns false for a malformed header (%s)', (_name, header) => {
    expect(verifyMessenger(VECTORS[0].body, header as string | string[] | null | undefined, SECRET)).toBe(false);
  });

  it('never throws on arbitrary header strings', () => {
    fc.assert(
      fc.property(fc.string(), (header) => {
        expect(typeof verifyMessenger(VECTORS[0].body, header, SECRET)).toBe('boolean');
      }),
    );
  });

  it('round-trips any body with any secret', () => {
    fc.assert(
      fc.property(fc.uint8Array(), fc.string({ minLength: 1 }), (body, secret) => {
        const header = signMessenger(body, secret)['x-hub-signature-256'];
        expect(verifyMessenger(Buffer.from(body), header, secret)).toBe(true);
      }),
    );
  });

  it('treats an empty secret list as a programming error', () => {
    expect(() => verifyMessenger('x', 'sha256=00', [])).toThrow(TypeError);
  });
});

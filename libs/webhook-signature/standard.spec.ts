import fc from 'fast-check';
import {
  generateStandardSecret,
  signStandard,
  standardSecretKey,
  verifyStandard,
  WebhookVerificationError,
  type StandardVerificationReason,
  type VerifyStandardInput,
} from './index';

// The test vector published with the Standard Webhooks reference libraries.
const SPEC = {
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  timestamp: 1614265330,
  body: '{"test": 2432232314}',
  signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
};

// Raw (non-whsec) secrets, computed with
//   printf '%s' 'msg_2Lq9.1700000000.{"text":"äöå 👍"}' | openssl dgst -sha256 -hmac "$SECRET" -binary | base64
const RAW_SECRET = '0123456789abcdef0123456789abcdef';
const ROTATED_SECRET = 'rotated-secret-2';
const UNICODE = {
  id: 'msg_2Lq9',
  timestamp: 1700000000,
  body: Buffer.from('7b2274657874223a22c3a4c3b6c3a520f09f918d227d', 'hex'), // {"text":"äöå 👍"}
  signatureRaw: 'v1,2kr6OOmgRsdFOj5NhdXuESNkyT20o3uVlLW0x7yf+yQ=',
  signatureRotated: 'v1,K4dnfxfwul/SY4uOCXsTkBsK+eNb0Pwy6ezDuEBy4CM=',
};
// printf 'msg_bin.1700000000.\xff\xfe\x00\x80' | openssl dgst -sha256 -hmac "$RAW_SECRET" -binary | base64
const BINARY_SIGNATURE = 'v1,96iecHkHIOM6vlofuA39S8CeZ7VKmv9im/8tnTERYbQ=';

function reasonOf(input: VerifyStandardInput): StandardVerificationReason | 'ok' {
  try {
    verifyStandard(input);
    return 'ok';
  } catch (err) {
    if (err instanceof WebhookVerificationError) return err.reason;
    throw err;
  }
}

describe('signStandard', () => {
  it('reproduces the spec test vector', () => {
    expect(signStandard({ id: SPEC.id, timestamp: SPEC.timestamp, body: SPEC.body, secrets: [SPEC.secret] })).toEqual({
      'webhook-id': SPEC.id,
      'webhook-timestamp': String(SPEC.timestamp),
      'webhook-signature': SPEC.signature,
    });
  });

  it('uses a raw secret as its UTF-8 bytes and signs the exact body bytes', () => {
    const headers = signStandard({ ...UNICODE, secrets: [RAW_SECRET] });
    expect(headers['webhook-signature']).toBe(UNICODE.signatureRaw);
    const fromString = signStandard({ ...UNICODE, body: '{"text":"äöå 👍"}', secrets: RAW_SECRET });
    expect(fromString['webhook-signature']).toBe(UNICODE.signatureRaw);
  });

  it('signs bytes that are not valid UTF-8 without altering them', () => {
    const body = Buffer.from([0xff, 0xfe, 0x00, 0x80]);
    const headers = signStandard({ id: 'msg_bin', timestamp: 1700000000, body, secrets: [RAW_SECRET] });
    expect(headers['webhook-signature']).toBe(BINARY_SIGNATURE);
  });

  it('emits one v1 entry per secret, in order, during a rotation', () => {
    const headers = signStandard({ ...UNICODE, secrets: [ROTATED_SECRET, RAW_SECRET] });
    expect(headers['webhook-signature']).toBe(`${UNICODE.signatureRotated} ${UNICODE.signatureRaw}`);
  });

  it('defaults the timestamp to now', () => {
    const before = Math.floor(Date.now() / 1000);
    const ts = Number(signStandard({ id: 'a', body: '', secrets: RAW_SECRET })['webhook-timestamp']);
    expect(ts).toBeGreaterThanOrEqual(before);
    expect(ts).toBeLessThanOrEqual(Math.floor(Date.now() / 1000));
  });

  it.each(['', 'msg.1', 'has space', 'line\nbreak', 'ümlaut'])('refuses the id %j', (id) => {
    expect(() => signStandard({ id, timestamp: 1, body: '', secrets: RAW_SECRET })).toThrow(TypeError);
  });

  it.each([1.5, -1, Number.NaN, 2 ** 60])('refuses the timestamp %p', (timestamp) => {
    expect(() => signStandard({ id: 'a', timestamp, body: '', secrets: RAW_SECRET })).toThrow(TypeError);
  });

  it('refuses an empty secret list, an empty secret and a whsec_ secret that is not base64', () => {
    expect(() => signStandard({ id: 'a', timestamp: 1, body: '', secrets: [] })).toThrow(TypeError);
    expect(() => signStandard({ id: 'a', timestamp: 1, body: '', secrets: [''] })).toThrow(TypeError);
    expect(() => signStandard({ id: 'a', timestamp: 1, body: '', secrets: ['whsec_not*base64'] })).toThrow(TypeError);
    expect(() => signStandard({ id: 'a', timestamp: 1, body: '', secrets: ['whsec_'] })).toThrow(TypeError);
  });
});

describe('standardSecretKey and generateStandardSecret', () => {
  it('decodes whsec_ secrets and keeps raw ones as UTF-8', () => {
    expect(standardSecretKey(SPEC.secret)).toEqual(Buffer.from('MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'base64'));
    expect(standardSecretKey('päss')).toEqual(Buffer.from('päss', 'utf8'));
  });

  it('generates distinct whsec_ secrets of 32 bytes', () => {
    const a = generateStandardSecret();
    const b = generateStandardSecret();
    expect(a).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(standardSecretKey(a)).toHaveLength(32);
    expect(a).not.toBe(b);
  });
});

describe('verifyStandard', () => {
  const specHeaders = {
    'webhook-id': SPEC.id,
    'webhook-timestamp': String(SPEC.timestamp),
    'webhook-signature': SPEC.signature,
  };
  const specInput = (over: Partial<VerifyStandardInput> = {}): VerifyStandardInput => ({
    headers: specHeaders,
    body: SPEC.body,
    secrets: SPEC.secret,
    now: SPEC.timestamp,
    ...over,
  });

  it('accepts the spec test vector and returns its id and timestamp', () => {
    expect(verifyStandard(specInput())).toEqual({ id: SPEC.id, timestamp: SPEC.timestamp });
  });

  it('finds the headers in any case and in a fetch Headers object', () => {
    const upper = {
      'Webhook-Id': SPEC.id,
      'WEBHOOK-TIMESTAMP': String(SPEC.timestamp),
      'Webhook-Signature': SPEC.signature,
    };
    expect(reasonOf(specInput({ headers: upper }))).toBe('ok');
    expect(reasonOf(specInput({ headers: new Headers(specHeaders) }))).toBe('ok');
  });

  it('accepts a Buffer body and a non-ASCII body over its exact bytes', () => {
    expect(reasonOf(specInput({ body: Buffer.from(SPEC.body) }))).toBe('ok');
    const headers = signStandard({ ...UNICODE, secrets: RAW_SECRET });
    expect(reasonOf({ headers, body: UNICODE.body, secrets: RAW_SECRET, now: UNICODE.timestamp })).toBe('ok');
    const reEscaped = '{"text":"\\u00e4\\u00f6\\u00e5 \\ud83d\\udc4d"}';
    expect(reasonOf({ headers, body: reEscaped, secrets: RAW_SECRET, now: UNICODE.timestamp })).toBe(
      'no_matching_signature',
    );
  });

  it('accepts, during a rotation, a message signed by either the old or the new secret', () => {
    const both = signStandard({ ...UNICODE, secrets: [ROTATED_SECRET, RAW_SECRET] });
    const oldOnly = signStandard({ ...UNICODE, secrets: [RAW_SECRET] });
    const base = { body: UNICODE.body, now: UNICODE.timestamp };
    expect(reasonOf({ ...base, headers: both, secrets: [RAW_SECRET] })).toBe('ok');
    expect(reasonOf({ ...base, headers: both, secrets: [ROTATED_SECRET] })).toBe('ok');
    expect(reasonOf({ ...base, headers: oldOnly, secrets: [ROTATED_SECRET, RAW_SECRET] })).toBe('ok');
    expect(reasonOf({ ...base, headers: oldOnly, secrets: [ROTATED_SECRET] })).toBe('no_matching_signature');
  });

  it('skips entries of other versions and garbage around the matching one', () => {
    const sig = `v1a,AAAA v2,${SPEC.signature.slice(3)} nonsense  ${SPEC.signature}`;
    expect(reasonOf(specInput({ headers: { ...specHeaders, 'webhook-signature': sig } }))).toBe('ok');
  });

  it.each([
    ['body', { body: '{"test": 2432232315}' }],
    ['id', { headers: { ...specHeaders, 'webhook-id': 'msg_p5jXN8AQM9LWM0D4loKWxJel' } }],
    [
      'timestamp',
      { headers: { ...specHeaders, 'webhook-timestamp': String(SPEC.timestamp + 1) }, now: SPEC.timestamp },
    ],
    [
      'signature',
      { headers: { ...specHeaders, 'webhook-signature': 'v1,h0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=' } },
    ],
    ['version', { headers: { ...specHeaders, 'webhook-signature': SPEC.signature.replace('v1,', 'v2,') } }],
    ['secret', { secrets: 'whsec_' + Buffer.alloc(24, 1).toString('base64') }],
  ] as const)('refuses a message with a tampered %s', (_what, over) => {
    expect(reasonOf(specInput(over as Partial<VerifyStandardInput>))).toBe('no_matching_signature');
  });

  it.each(['webhook-id', 'webhook-timestamp', 'webhook-signature'] as const)('refuses a missing %s', (name) => {
    const headers: Record<string, string> = { ...specHeaders };
    delete headers[name];
    expect(reasonOf(specInput({ headers }))).toBe('missing_header');
    expect(reasonOf(specInput({ headers: { ...specHeaders, [name]: ' ' } }))).toBe('missing_header');
  });

  it.each([
    ['an id with a dot', { 'webhook-id': 'msg.1' }],
    ['a fractional timestamp', { 'webhook-timestamp': '1614265330.5' }],
    ['a negative timestamp', { 'webhook-timestamp': '-1614265330' }],
    ['a non-numeric timestamp', { 'webhook-timestamp': 'yesterday' }],
  ])('refuses %s as invalid_header', (_what, over) => {
    expect(reasonOf(specInput({ headers: { ...specHeaders, ...over } }))).toBe('invalid_header');
  });

  it('enforces the tolerance in both directions, inclusive at the edge', () => {
    const at = (now: number, toleranceSeconds?: number) => reasonOf(specInput({ now, toleranceSeconds }));
    expect(at(SPEC.timestamp + 300)).toBe('ok');
    expect(at(SPEC.timestamp + 301)).toBe('timestamp_expired');
    expect(at(SPEC.timestamp - 300)).toBe('ok');
    expect(at(SPEC.timestamp - 301)).toBe('timestamp_in_future');
    expect(at(SPEC.timestamp + 60, 30)).toBe('timestamp_expired');
    expect(at(SPEC.timestamp + 30, 30)).toBe('ok');
  });

  it('uses the real clock when now is not given', () => {
    // The spec vector is from 2021, so it is stale today; a fresh signature passes.
    expect(reasonOf({ headers: specHeaders, body: SPEC.body, secrets: SPEC.secret })).toBe('timestamp_expired');
    const fresh = signStandard({ id: SPEC.id, body: SPEC.body, secrets: [SPEC.secret] });
    expect(reasonOf({ headers: fresh, body: SPEC.body, secrets: SPEC.secret })).toBe('ok');
  });

  it('checks the signature before the timestamp, so a forged stale message is reported as forged', () => {
    const forged = { ...specHeaders, 'webhook-signature': 'v1,' + Buffer.alloc(32).toString('base64') };
    expect(reasonOf(specInput({ headers: forged, now: SPEC.timestamp + 10_000 }))).toBe('no_matching_signature');
  });

  it('throws an error carrying a reason and a readable message', () => {
    expect(() => verifyStandard(specInput({ body: 'x' }))).toThrow(
      expect.objectContaining({ name: 'WebhookVerificationError', reason: 'no_matching_signature' }),
    );
  });

  it('treats missing secrets as a programming error, not a bad message', () => {
    expect(() => verifyStandard(specInput({ secrets: [] }))).toThrow(TypeError);
  });

  it('round-trips any body, id and secret set, and rejects any single-byte change of the body', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1 }),
        fc.stringMatching(/^[A-Za-z0-9_-]{1,32}$/),
        fc.array(
          fc.string({ minLength: 1 }).filter((s) => !s.startsWith('whsec_')),
          { minLength: 1, maxLength: 3 },
        ),
        fc.nat(),
        (body, id, secrets, at) => {
          const timestamp = 1_600_000_000 + (at % 100_000_000);
          const headers = signStandard({ id, timestamp, body, secrets });
          for (const secret of secrets) {
            expect(reasonOf({ headers, body, secrets: secret, now: timestamp })).toBe('ok');
          }
          const tampered = Buffer.from(body);
          tampered[at % tampered.length] ^= 0x80;
          expect(reasonOf({ headers, body: tampered, secrets, now: timestamp })).toBe('no_matching_signature');
        },
      ),
    );
  });
});

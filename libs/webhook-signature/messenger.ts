import { createHmac, timingSafeEqual } from 'node:crypto';
import { bodyBytes, singleHeader, type HeaderValue, type SignableBody } from './body';

/** The two signature headers the Messenger Platform sends with every webhook POST. */
export type MessengerSignatureHeaders = {
  /** `sha256=<lowercase hex HMAC-SHA256 of the body>`: the one to verify. */
  'x-hub-signature-256': string;
  /** `sha1=<lowercase hex HMAC-SHA1 of the body>`: legacy, sent for old receivers only. */
  'x-hub-signature': string;
};

const SHA256_PREFIX = 'sha256=';
const SHA256_HEX = /^[0-9a-f]{64}$/i;

function hmacHex(algorithm: 'sha256' | 'sha1', body: Buffer, secret: string): string {
  return createHmac(algorithm, secret).update(body).digest('hex');
}

/**
 * Signs a webhook body the way the Messenger Platform does: HMAC keyed with the App Secret over the
 * exact bytes of the body.
 *
 * @param body - the exact bytes that will be sent (a string is encoded as UTF-8).
 * @param appSecret - the app's secret, used as-is (its UTF-8 bytes are the key).
 * @returns both headers; send them with the body unchanged.
 */
export function signMessenger(body: SignableBody, appSecret: string): MessengerSignatureHeaders {
  if (typeof appSecret !== 'string' || appSecret.length === 0) {
    throw new TypeError('appSecret must be a non-empty string');
  }
  const bytes = bodyBytes(body);
  return {
    'x-hub-signature-256': `${SHA256_PREFIX}${hmacHex('sha256', bytes, appSecret)}`,
    'x-hub-signature': `sha1=${hmacHex('sha1', bytes, appSecret)}`,
  };
}

/**
 * Checks an `X-Hub-Signature-256` header against the raw body.
 *
 * Pass the body exactly as it arrived, before any JSON parsing: re-serialising parsed JSON changes the
 * bytes (escapes, spacing, key order) and the signature will not match.
 *
 * @param body - the raw request body (a string is encoded as UTF-8).
 * @param header - the `x-hub-signature-256` header value, `sha256=<hex>`. Anything else (missing, `sha1=`,
 *   wrong length, not hex) returns `false`; this function never throws on header content.
 * @param secrets - the app secret, or several during a rotation: `true` if any of them matches.
 * @returns `true` when the signature matches one of the secrets.
 */
export function verifyMessenger(body: SignableBody, header: HeaderValue, secrets: string | readonly string[]): boolean {
  const keys = typeof secrets === 'string' ? [secrets] : secrets;
  if (!Array.isArray(keys) || keys.length === 0 || keys.some((k) => typeof k !== 'string' || k.length === 0)) {
    throw new TypeError('secrets must be a non-empty string or a non-empty array of non-empty strings');
  }
  const value = singleHeader(header);
  if (typeof value !== 'string') return false;
  const trimmed = value.trim();
  if (trimmed.slice(0, SHA256_PREFIX.length).toLowerCase() !== SHA256_PREFIX) return false;
  const hex = trimmed.slice(SHA256_PREFIX.length);
  if (!SHA256_HEX.test(hex)) return false;

  const given = Buffer.from(hex, 'hex');
  const bytes = bodyBytes(body);
  let matched = false;
  // Every secret is tried, so the time taken does not depend on which one matched.
  for (const secret of keys) {
    const expected = createHmac('sha256', secret).update(bytes).digest();
    if (timingSafeEqual(expected, given)) matched = true;
  }
  return matched;
}

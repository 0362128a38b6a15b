import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { bodyBytes, singleHeader, type HeaderValue, type SignableBody } from './body';

/** The three headers of a Standard Webhooks v1 message. */
// A type rather than an interface, so it can be passed wherever a header record is expected.
export type StandardSignatureHeaders = {
  /** The message id; the same on every retry of one message, so receivers can dedupe on it. */
  'webhook-id': string;
  /** Unix seconds at which this attempt was signed. */
  'webhook-timestamp': string;
  /** Space-separated `v1,<base64 HMAC-SHA256>` entries, one per signing secret. */
  'webhook-signature': string;
};

/** What {@link signStandard} needs. */
export interface SignStandardInput {
  /** Message id: non-empty printable ASCII, no `.` and no spaces. */
  id: string;
  /** Unix time in seconds (an integer). Defaults to now. */
  timestamp?: number;
  /** The exact bytes that will be sent (a string is encoded as UTF-8). */
  body: SignableBody;
  /**
   * One secret, or several during a rotation (each produces one `v1,` entry, in this order).
   * `whsec_<base64>` is decoded as the spec says; any other string is used as its UTF-8 bytes.
   */
  secrets: string | readonly string[];
}

/** Headers as Node's `req.headers` (any case), or a fetch `Headers` object. */
export type StandardHeadersInput = Readonly<Record<string, HeaderValue>> | { get(name: string): string | null };

/** What {@link verifyStandard} needs. */
export interface VerifyStandardInput {
  headers: StandardHeadersInput;
  /** The raw body exactly as received, before any JSON parsing. */
  body: SignableBody;
  /** The endpoint's secret, or all secrets valid during a rotation; any one matching is enough. */
  secrets: string | readonly string[];
  /** How far the timestamp may be from `now`, either way. Default 300 (the reference libraries' 5 minutes). */
  toleranceSeconds?: number;
  /** Current unix time in seconds. Default `Date.now() / 1000`. */
  now?: number;
}

/** A verified message's identity: dedupe on `id`. */
export interface VerifiedStandardMessage {
  id: string;
  timestamp: number;
}

/**
 * Why {@link verifyStandard} refused a message. Checked in this order, so `timestamp_*` means the signature
 * was genuine but the message is stale or from the future (a replay, or a skewed clock).
 */
export type StandardVerificationReason =
  'missing_header' | 'invalid_header' | 'no_matching_signature' | 'timestamp_expired' | 'timestamp_in_future';

/** Thrown by {@link verifyStandard}; `reason` is stable, `message` is for humans. */
export class WebhookVerificationError extends Error {
  override readonly name = 'WebhookVerificationError';
  constructor(
    readonly reason: StandardVerificationReason,
    message: string,
  ) {
    super(message);
  }
}

const SECRET_PREFIX = 'whsec_';
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{2,3})?$/;
// Printable ASCII without space and '.', so the id is a safe header value and the signed content is unambiguous.
const ID = /^[\x21-\x2d\x2f-\x7e]+$/;
const DIGITS = /^\d{1,15}$/;

/**
 * The HMAC key a secret stands for: `whsec_<base64>` is base64-decoded (Standard Webhooks, Svix); any
 * other string is used as its UTF-8 bytes (Switchboard app secrets).
 *
 * @throws TypeError if the secret is empty or `whsec_` is followed by something that is not base64.
 */
export function standardSecretKey(secret: string): Buffer {
  if (typeof secret !== 'string' || secret.length === 0) throw new TypeError('secret must be a non-empty string');
  if (!secret.startsWith(SECRET_PREFIX)) return Buffer.from(secret, 'utf8');
  const encoded = secret.slice(SECRET_PREFIX.length);
  if (encoded.length === 0 || !BASE64.test(encoded)) throw new TypeError('whsec_ secret is not valid base64');
  return Buffer.from(encoded, 'base64');
}

/**
 * A new random secret in the spec's format: `whsec_` followed by the base64 of 32 random bytes.
 */
export function generateStandardSecret(): string {
  return SECRET_PREFIX + randomBytes(32).toString('base64');
}

function keysOf(secrets: string | readonly string[]): Buffer[] {
  const list = typeof secrets === 'string' ? [secrets] : secrets;
  if (!Array.isArray(list) || list.length === 0) throw new TypeError('secrets must not be empty');
  return list.map(standardSecretKey);
}

function sign(key: Buffer, id: string, timestamp: string, body: Buffer): string {
  return createHmac('sha256', key).update(`${id}.${timestamp}.`, 'utf8').update(body).digest('base64');
}

/**
 * Signs one delivery attempt as Standard Webhooks v1: HMAC-SHA256 over `"<id>.<timestamp>.<body bytes>"`.
 *
 * @returns the three headers to send with the body unchanged.
 * @throws TypeError on an invalid id, timestamp or secret.
 */
export function signStandard(input: SignStandardInput): StandardSignatureHeaders {
  const { id, body } = input;
  const timestamp = input.timestamp ?? Math.floor(Date.now() / 1000);
  if (typeof id !== 'string' || !ID.test(id)) {
    throw new TypeError('id must be non-empty printable ASCII without "." or spaces');
  }
  if (!Number.isSafeInteger(timestamp) || timestamp < 0) {
    throw new TypeError('timestamp must be a non-negative integer of unix seconds');
  }
  const ts = String(timestamp);
  const bytes = bodyBytes(body);
  const signature = keysOf(input.secrets)
    .map((key) => `v1,${sign(key, id, ts, bytes)}`)
    .join(' ');
  return { 'webhook-id': id, 'webhook-timestamp': ts, 'webhook-signature': signature };
}

function readHeader(headers: StandardHeadersInput, name: string): string | undefined {
  if (typeof (headers as { get?: unknown }).get === 'function') {
    return (headers as { get(name: string): string | null }).get(name) ?? undefined;
  }
  const record = headers as Readonly<Record<string, HeaderValue>>;
  if (name in record) return singleHeader(record[name]);
  for (const key of Object.keys(record)) {
    if (key.toLowerCase() === name) return singleHeader(record[key]);
  }
  return undefined;
}

/**
 * Verifies a Standard Webhooks v1 message: at least one `v1,` entry of `webhook-signature` must match one
 * of `secrets` (constant-time compare), and `webhook-timestamp` must be within `toleranceSeconds` of now.
 *
 * @returns the verified `{ id, timestamp }`; dedupe on `id`.
 * @throws WebhookVerificationError with a `reason` when the message must be refused (answer 401 or 400).
 * @throws TypeError when `secrets` is empty or malformed (a programming error, not a bad message).
 */
export function verifyStandard(input: VerifyStandardInput): VerifiedStandardMessage {
  const keys = keysOf(input.secrets);
  const tolerance = input.toleranceSeconds ?? 300;
  if (!Number.isFinite(tolerance) || tolerance < 0) throw new TypeError('toleranceSeconds must be >= 0');

  const id = readHeader(input.headers, 'webhook-id')?.trim();
  const ts = readHeader(input.headers, 'webhook-timestamp')?.trim();
  const signatures = readHeader(input.headers, 'webhook-signature');
  if (!id || !ts || !signatures?.trim()) {
    throw new WebhookVerificationError(
      'missing_header',
      'webhook-id, webhook-timestamp and webhook-signature are all required',
    );
  }
  if (!ID.test(id))
    throw new WebhookVerificationError('invalid_header', 'webhook-id contains "." or invalid characters');
  if (!DIGITS.test(ts)) throw new WebhookVerificationError('invalid_header', 'webhook-timestamp is not unix seconds');

  const bytes = bodyBytes(input.body);
  const expected = keys.map((key) => Buffer.from(sign(key, id, ts, bytes), 'utf8'));
  let matched = false;
  for (const entry of signatures.split(' ')) {
    const comma = entry.indexOf(',');
    if (comma < 0 || entry.slice(0, comma) !== 'v1') continue;
    const given = Buffer.from(entry.slice(comma + 1), 'utf8');
    for (const candidate of expected) {
      // Lengths are public (always 44 for SHA-256); only equal-length values reach the constant-time compare.
      if (candidate.length === given.length && timingSafeEqual(candidate, given)) matched = true;
    }
  }
  if (!matched) {
    throw new WebhookVerificationError('no_matching_signature', 'no v1 signature matches any of the secrets');
  }

  const timestamp = Number(ts);
  const now = input.now ?? Date.now() / 1000;
  if (now - timestamp > tolerance) {
    throw new WebhookVerificationError('timestamp_expired', `webhook-timestamp is more than ${tolerance} s old`);
  }
  if (timestamp - now > tolerance) {
    throw new WebhookVerificationError('timestamp_in_future', `webhook-timestamp is more than ${tolerance} s ahead`);
  }
  return { id, timestamp };
}

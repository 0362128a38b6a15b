/** A request body: the exact bytes (`Buffer`/`Uint8Array`) or a string, which is encoded as UTF-8. */
export type SignableBody = Buffer | Uint8Array | string;

/** A header value as Node's `IncomingMessage.headers` or a framework hands it over. */
export type HeaderValue = string | readonly string[] | null | undefined;

// Strings are hashed as UTF-8; bytes are hashed untouched, never round-tripped through a string.
export function bodyBytes(body: SignableBody): Buffer {
  if (typeof body === 'string') return Buffer.from(body, 'utf8');
  if (Buffer.isBuffer(body)) return body;
  if (body instanceof Uint8Array) return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  throw new TypeError('body must be a Buffer, Uint8Array or string');
}

// A header given once, or as a one-element array, is usable; absent or repeated is not.
export function singleHeader(value: HeaderValue): string | undefined {
  if (typeof value === 'string') return value;
  if (Array.isArray(value) && value.length === 1 && typeof value[0] === 'string') return value[0];
  return undefined;
}

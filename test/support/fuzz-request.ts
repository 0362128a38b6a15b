import fc from 'fast-check';
import { CallOptions, HttpClient, HttpResult } from './http-client';
import { rowCounts } from './row-counts';
import { TestDatabase } from './test-database';

// A fuzzed body as its content type sends it: an object as a form when the type says so, anything else as JSON.
export function fuzzBody(contentType: string, body: unknown): string {
  return contentType.includes('form') && body && typeof body === 'object' && !Array.isArray(body)
    ? new URLSearchParams(Object.entries(body).map(([k, v]): [string, string] => [k, typeof v === 'string' ? v : JSON.stringify(v)])).toString()
    : JSON.stringify(body);
}

// One fuzzed request: never a 5xx, and a refusal comes in its route's error shape (Graph's envelope on /v… paths)
// with nothing written.
export async function expectNo5xx(db: TestDatabase, api: HttpClient, method: string, path: string, opts: CallOptions): Promise<HttpResult> {
  const before = await rowCounts(db);
  const res = await api.call(method, path, undefined, opts);
  expect(res.status).toBeLessThan(500);
  if (res.status >= 400) {
    if (path.startsWith('/v')) {
      expect(res.body.error).toMatchObject({ code: expect.any(Number), message: expect.any(String), type: expect.any(String), fbtrace_id: expect.any(String) });
    } else {
      expect(res.body).toMatchObject({ statusCode: res.status, code: expect.any(String), requestId: expect.any(String) });
    }
    expect(await rowCounts(db)).toEqual(before);
  }
  return res;
}

// Text as a client may send it: printable, any code point, and what Postgres can't store (NUL, lone surrogates).
export const anyText = () => fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.constantFrom('a\u0000b', '\ud800', 'x\udc00y'));
// The same for a query string: encodeURIComponent refuses a lone surrogate, so those are replaced (U+FFFD).
export const anyQueryText = () => anyText().map((s) => (s as string & { toWellFormed(): string }).toWellFormed());

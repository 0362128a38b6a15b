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
  // Named in the failure: a sweep's request is not a counterexample fast-check would print.
  if (res.status >= 500) throw new Error(`${method} ${path} ${String(opts.raw ?? '').slice(0, 500)} answered ${res.status} ${JSON.stringify(res.body)}`);
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

// A value a client may put where another was expected: nothing, the wrong type, out of any range, too long.
export const hostileValue = () =>
  fc.oneof(
    fc.constantFrom(null, '', 0, -1, 0.5, 1e308, -1e308, true, [], {}, [null], { a: null }, 'x'.repeat(5000), '9'.repeat(30), 'm_nope', '👍🏽'),
    anyText(),
    fc.integer(),
    fc.jsonValue({ maxDepth: 2 }),
  );

type Path = (string | number)[];

// Every place in a JSON value, the value itself first.
function placesOf(value: unknown, at: Path = []): Path[] {
  const inner =
    value && typeof value === 'object'
      ? Object.entries(value as Record<string, unknown>).flatMap(([k, v]) => placesOf(v, [...at, Array.isArray(value) ? Number(k) : k]))
      : [];
  return [at, ...inner];
}

const REMOVED = Symbol('removed');

function withChange(value: unknown, path: Path, to: unknown): unknown {
  if (!path.length) return to;
  const [head, ...rest] = path;
  if (Array.isArray(value)) {
    const copy = [...value];
    const next = withChange(copy[head as number], rest, to);
    if (next === REMOVED) copy.splice(head as number, 1);
    else copy[head as number] = next;
    return copy;
  }
  const copy = { ...(value as Record<string, unknown>) };
  const next = withChange(copy[head], rest, to);
  if (next === REMOVED) delete copy[head];
  else copy[head] = next;
  return copy;
}

// A body a route takes, with one place changed: its value replaced by a hostile one, or removed. Random bodies
// rarely get past a route's first checks; these reach the code behind them (a null where a string was optional
// once got there and answered 500).
export function oneChangeTo(example: unknown): fc.Arbitrary<unknown> {
  const places = placesOf(example);
  return fc
    .tuple(fc.constantFrom(...places), hostileValue(), fc.nat(3))
    .map(([path, hostile, how]) => withChange(example, path, how === 0 && path.length ? REMOVED : hostile));
}

// Every body one step from a good one, each place in turn: null, removed, and the values of its own type that
// most often get past a first check (a whole number no column holds, an empty or huge string, an empty container).
// Drawn at random these are too rare to be met reliably on every run.
function valuesAgainst(value: unknown): unknown[] {
  if (typeof value === 'number') return [1e308, -1, 0.5, 2 ** 63];
  if (typeof value === 'string') return ['', 'x'.repeat(5000), 'a\u0000b'];
  if (Array.isArray(value)) return [[], [null]];
  if (value && typeof value === 'object') return [{}, []];
  return [];
}

export function singleChanges(example: unknown): unknown[] {
  return placesOf(example)
    .filter((path) => path.length > 0)
    .flatMap((path) => {
      const here = path.reduce<unknown>((v, k) => (v as Record<string | number, unknown>)[k], example);
      return [null, REMOVED, ...valuesAgainst(here)].map((to) => withChange(example, path, to));
    });
}

// A body a route takes, as a fuzz example. `refused`: taken apart from its first checks, refused by design (the
// refusal past them is what is tested).
export interface RouteExample {
  method: string;
  path: string;
  token?: string;
  body: unknown;
  refused?: true;
  // The same call by someone with no right to it (another person, another Page's token, a non-admin): refused,
  // nothing written. Made before the example itself, so its refusal can't be a conflict with what that wrote.
  stranger?: { token?: string; path?: string };
}

// Each example by a stranger (refused) and as it is (taken, unless marked refused: otherwise only its refusal would be
// tested), then every single change of singleChanges, then `numRuns` random ones: never a 5xx, nothing written on a
// refusal.
export async function fuzzExamples(db: TestDatabase, api: HttpClient, examples: RouteExample[], numRuns: number): Promise<void> {
  const call = (route: RouteExample, body: unknown) =>
    expectNo5xx(db, api, route.method, route.path, { token: route.token, headers: { 'content-type': 'application/json' }, raw: JSON.stringify(body) });
  for (const route of examples) {
    const name = `${route.method} ${route.path.split('?')[0]}`;
    if (route.stranger) {
      const res = await call({ ...route, ...route.stranger }, route.body);
      expect({ name, by: 'a stranger', refused: res.status >= 400 }).toEqual({ name, by: 'a stranger', refused: true });
    }
    const res = await call(route, route.body);
    expect({ name, taken: res.status < 400 }).toEqual({ name, taken: !route.refused });
  }
  for (const route of examples) for (const body of singleChanges(route.body)) await call(route, body);
  await fc.assert(
    fc.asyncProperty(
      fc.nat(examples.length - 1).chain((i) => fc.tuple(fc.constant(examples[i]), oneChangeTo(examples[i].body))),
      ([route, body]) => call(route, body).then(() => undefined),
    ),
    { numRuns },
  );
}

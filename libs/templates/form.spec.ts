import fc from 'fast-check';
import { errorOf, valueOf } from './fixtures';
import {
  LIMITS,
  nestBracketParams,
  parseFormBody,
  parseGraphJson,
  parseGraphParams,
  validateSendRequest,
} from './index';

// Integers beyond 2^53 are kept as digits on purpose (tested below); leave them out here.
const exact = (v: unknown): unknown =>
  typeof v === 'number' && Number.isInteger(v) && !Number.isSafeInteger(v)
    ? 0
    : Array.isArray(v)
      ? v.map(exact)
      : typeof v === 'object' && v !== null
        ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, exact(x)]))
        : v;

describe('parseGraphJson', () => {
  it('parses standard JSON like JSON.parse', () =>
    fc.assert(
      fc.property(fc.jsonValue().map(exact), (v) => {
        const text = JSON.stringify(v);
        expect(parseGraphJson(text)).toEqual({ ok: true, value: JSON.parse(text) });
      }),
    ));

  it("takes single quotes, as in Meta's curl examples", () => {
    expect(parseGraphJson("{'id':'1254477777772919'}")).toEqual({ ok: true, value: { id: '1254477777772919' } });
    expect(parseGraphJson(`{'text':'it\\'s "fine"'}`)).toEqual({ ok: true, value: { text: `it's "fine"` } });
  });

  it('reads escapes', () => expect(parseGraphJson('"a\\n\\u00e4\\/"')).toEqual({ ok: true, value: 'a\nä/' }));

  it('keeps integers too large to be exact as their digits', () =>
    expect(parseGraphJson('{"id":12544777777729191,"n":1.5,"m":12}')).toEqual({
      ok: true,
      value: { id: '12544777777729191', n: 1.5, m: 12 },
    }));

  it.each([
    ['{"id":"1"', 'unexpected end of input'],
    ['{"id":"1"} x', 'unexpected character "x" after the value at position 11'],
    ['{id:"1"}', `unexpected character "i" (expected a quoted key) at position 1`],
    ['{"id" "1"}', `unexpected character "\\"" (expected ':') at position 6`],
    ['[1,]', 'unexpected character "]" at position 3'],
    ['"\\x"', 'unexpected escape sequence at position 2'],
    ['', 'unexpected end of input'],
  ])('refuses %j: %s', (text, reason) => expect(parseGraphJson(text)).toEqual({ ok: false, reason }));

  it('refuses nesting deeper than the limit', () =>
    expect(parseGraphJson('['.repeat(100) + ']'.repeat(100))).toEqual({
      ok: false,
      reason: 'nesting deeper than 32 levels',
    }));

  it('defines __proto__ as a plain key, never as the prototype', () => {
    const parsed = parseGraphJson('{"__proto__":{"polluted":true}}');
    const result = (parsed.ok ? parsed.value : undefined) as Record<string, unknown>;
    expect(Object.getPrototypeOf(result)).toBe(Object.prototype);
    expect(Object.keys(result)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('never throws', () =>
    fc.assert(
      fc.property(fc.string(), (text) => {
        const result = parseGraphJson(text);
        expect(result.ok || result.reason.length > 0).toBe(true);
      }),
    ));
});

describe('parseGraphParams', () => {
  it("parses the form-encoded example from Meta's Send API reference", () => {
    // curl -d "recipient={'id':'{PSID}'}" -d "messaging_type=RESPONSE" -d "message={'text':'hello, world'}" -d "access_token=..."
    const form = {
      recipient: "{'id':'1254477777772919'}",
      messaging_type: 'RESPONSE',
      message: "{'text':'hello, world'}",
      access_token: 'EAAB',
    };
    const body = valueOf(parseGraphParams(form));
    expect(valueOf(validateSendRequest(body))).toEqual({
      recipient: { id: '1254477777772919' },
      messaging_type: 'RESPONSE',
      message: { text: 'hello, world' },
    });
  });

  it('names the param whose JSON is invalid', () =>
    expect(errorOf(parseGraphParams({ recipient: '{"id":"1"}', message: '{"text":"hi"' }))).toEqual({
      code: 100,
      param: 'message',
      message: 'param message must be valid JSON (unexpected end of input)',
    }));

  it('leaves strings that are not JSON, objects, and other params alone', () => {
    const body = { recipient: { id: '1' }, message: 'hello', messaging_type: '{"not":"parsed"}' };
    expect(valueOf(parseGraphParams(body))).toEqual(body);
    expect(errorOf(validateSendRequest(valueOf(parseGraphParams(body)))).message).toBe(
      'param messaging_type must be one of [RESPONSE, UPDATE, MESSAGE_TAG]',
    );
  });

  it('refuses a body that is not an object', () =>
    expect(errorOf(parseGraphParams('recipient=1'))).toEqual({
      code: 100,
      param: 'body',
      message: 'param body must be an object',
    }));

  it('keeps a __proto__ param as data, so validation reports it', () => {
    const body = valueOf(parseGraphParams(JSON.parse('{"__proto__":{"x":1},"recipient":"{\\"id\\":\\"1\\"}"}')));
    expect(Object.getPrototypeOf(body)).toBe(Object.prototype);
    expect(errorOf(validateSendRequest(body)).message).toBe('param __proto__ is not a known field');
  });
});

describe('nestBracketParams', () => {
  it('nests what http_build_query and qs write, lists where the indexes are 0…n-1', () => {
    expect(
      nestBracketParams({
        'recipient[id]': '1254477777772919',
        messaging_type: 'RESPONSE',
        'message[quick_replies][1][content_type]': 'user_email',
        'message[quick_replies][0][content_type]': 'text',
        'message[quick_replies][0][title]': 'Red',
        'message[text]': 'hi',
        'fields[]': ['greeting', 'get_started'],
        'ids[]': 'a',
        'sparse[0]': 'a',
        'sparse[2]': 'c',
      }),
    ).toEqual({
      recipient: { id: '1254477777772919' },
      messaging_type: 'RESPONSE',
      message: { quick_replies: [{ content_type: 'text', title: 'Red' }, { content_type: 'user_email' }], text: 'hi' },
      fields: ['greeting', 'get_started'],
      ids: ['a'],
      sparse: { 0: 'a', 2: 'c' },
    });
  });

  it('leaves params without brackets as they are, and names that are not bracketed paths', () => {
    const plain = { recipient: '{"id":"1"}', message: { text: 'hi' } };
    expect(nestBracketParams(plain)).toBe(plain);
    expect(nestBracketParams({ 'a[b': '1', '[x]': '2', 'c[d]e': '3' })).toEqual({
      'a[b': '1',
      '[x]': '2',
      'c[d]e': '3',
    });
    expect(nestBracketParams({ 'appsecret_proof[]': 'x', 'access_token[a]': 'y' })).toEqual({
      'appsecret_proof[]': 'x',
      'access_token[a]': 'y',
    });
    const deep = `a${'[x]'.repeat(40)}`;
    expect(nestBracketParams({ [deep]: '1' })).toEqual({ [deep]: '1' });
  });

  // Each append used to count the list's keys again (a 1 MB form of `fields[]=1&…` took minutes of one thread's
  // CPU). Bounded by what it does, not by time: every key is looked at a few times.
  it('appends a name with many values, or many `[]` names, in one pass over the list', () => {
    const n = LIMITS.bracketedValues - 1;
    const values = Array.from({ length: n }, (_, i) => String(i));
    const hasOwn = jest.spyOn(Object, 'hasOwn');
    const keys = jest.spyOn(Object, 'keys');
    try {
      const out = nestBracketParams({ 'fields[]': values, 'ids[]': 'a' } as Record<string, unknown>);
      expect((out.fields as string[]).length).toBe(n);
      expect((out.fields as string[])[n - 1]).toBe(String(n - 1));
      expect(out.ids).toEqual(['a']);
      expect(hasOwn.mock.calls.length).toBeLessThan(3 * n);
      expect(keys.mock.calls.length).toBeLessThan(100);
    } finally {
      hasOwn.mockRestore();
      keys.mockRestore();
    }
    // An explicit index and `[]` on one list: `[]` takes the next free place.
    expect(nestBracketParams({ 'a[]': 'x', 'a[1]': 'y', 'a[2]': 'z' })).toEqual({ a: ['x', 'y', 'z'] });
    expect(nestBracketParams({ 'a[1]': 'y', 'a[]': ['x', 'z'] })).toEqual({ a: ['x', 'y', 'z'] });
  });

  // Nesting costs far more than parsing: a 1 MB form of ~90,000 names took ~0.45 s of the event loop.
  it('nests at most LIMITS.bracketedValues values: the names past them stay flat, and validation refuses them', () => {
    const many: Record<string, string> = { 'recipient[id]': '1', 'message[text]': 'hi' };
    for (let i = 0; i < LIMITS.bracketedValues; i++) many[`x[k${i}]`] = 'v';
    const out = nestBracketParams(many);
    expect(out.recipient).toEqual({ id: '1' });
    expect(Object.keys(out.x as object)).toHaveLength(LIMITS.bracketedValues - 2);
    expect(out[`x[k${LIMITS.bracketedValues - 1}]`]).toBe('v');
    expect(errorOf(validateSendRequest(out)).message).toMatch(/^param x(\[k\d+\])? is not a known field$/);
    const list = nestBracketParams({ 'fields[]': Array.from({ length: LIMITS.bracketedValues + 1 }, () => 'a') });
    expect(Object.keys(list)).toEqual(['fields[]']);
  });

  it('lets a later name win at the same place, as PHP does, and keeps __proto__ a plain key', () => {
    expect(nestBracketParams({ message: '{"text":"hi"}', 'message[text]': 'yo' })).toEqual({ message: { text: 'yo' } });
    const out = nestBracketParams({ 'recipient[id]': '1', 'recipient[__proto__][polluted]': 'yes' }) as {
      recipient: Record<string, unknown>;
    };
    expect(Object.getPrototypeOf(out.recipient)).toBe(Object.prototype);
    expect(Object.keys(out.recipient)).toEqual(['id', '__proto__']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('parseFormBody', () => {
  it('reads names and values, a repeated name as the list of its values, __proto__ as a plain key', () => {
    const out = parseFormBody('recipient%5Bid%5D=1&message[text]=hi+there&f=a&f=b&f=c&__proto__=x&empty=');
    expect(out).toEqual({
      'recipient[id]': '1',
      'message[text]': 'hi there',
      f: ['a', 'b', 'c'],
      ['__proto__']: 'x',
      empty: '',
    });
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
  });

  // It runs before the caller is known (the body parser): a 1 MB body of one repeated name (~250,000 values) used to
  // copy the list at every value (40,000 values took 9 s). The cost is measured by hand, not here; this checks the list.
  it('keeps every value of a much-repeated name, in order', () => {
    const out = parseFormBody(Array.from({ length: 20_000 }, (_, i) => `a=${i}`).join('&'));
    expect((out.a as string[]).length).toBe(20_000);
    expect((out.a as string[]).every((v, i) => v === String(i))).toBe(true);
  });
});

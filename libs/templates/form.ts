// Graph takes nested params as JSON strings in form-encoded bodies and query strings:
// `recipient={"id":"123"}&message={"text":"hi"}`. Meta's own examples quote with single quotes
// (`message={'text':'hello, world'}`), so the parser accepts both quote styles.
import { GRAPH_TRANSPORT_PARAMS, LIMITS, MESSENGER_PROFILE_FIELDS } from './constants';
import { fail } from './schema';
import { UNSTORABLE_TEXT_PHRASE, unstorableTextPath } from './storable-text';
import type { ValidationResult } from './types';

/** Params of `POST /me/messages` that may arrive as JSON strings. */
export const SEND_API_JSON_PARAMS = ['recipient', 'message', 'reply_to', 'payload'] as const;
/** Params of `POST`/`DELETE /me/messenger_profile` that may arrive as JSON strings. */
export const MESSENGER_PROFILE_JSON_PARAMS = [...MESSENGER_PROFILE_FIELDS, 'fields'] as const;

/**
 * Parses the listed params of a form-encoded (or query) body from JSON strings into values,
 * before `validateSendRequest` or `validateMessengerProfile`. A string that does not start with
 * `{` or `[` is left alone (the schema then names it). Invalid JSON is Graph error 100 on that param.
 * Safe on JSON bodies too: values that are already objects pass through.
 */
export function parseGraphParams(
  body: unknown,
  params: readonly string[] = SEND_API_JSON_PARAMS,
): ValidationResult<Record<string, unknown>> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return fail([], 'must be an object');
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(body)) {
    let value = (body as Record<string, unknown>)[key];
    if (params.includes(key) && typeof value === 'string' && /^\s*[[{]/.test(value)) {
      const parsed = parseGraphJson(value);
      if (!parsed.ok) return fail([key], `must be valid JSON (${parsed.reason})`);
      value = parsed.value;
    }
    Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  }
  // After JSON strings are decoded: a form's `\u0000` is only a NUL once parsed.
  const unstorable = unstorableTextPath(out);
  if (unstorable) return fail(unstorable, UNSTORABLE_TEXT_PHRASE);
  return { ok: true, value: out };
}

// `name[a][0][b]`: a name and its bracketed keys (`[]` appends to a list).
const BRACKETED = /^([^[\]]+)((?:\[[^[\]]*\])+)$/;
const INDEX = /^(?:0|[1-9]\d{0,8})$/;

/**
 * Nested params written the way PHP's `http_build_query` and `qs` write them (`recipient[id]=…`,
 * `message[quick_replies][0][title]=…`, `fields[]=…`), as Graph reads them: nested objects, and lists where
 * a level's keys are the indexes 0…n-1. Other names are kept as they are. A later name wins over an
 * earlier one at the same place, as in PHP; keys are own properties (`__proto__` is a plain key). Nesting
 * deeper than `LIMITS.depth`, names past `LIMITS.bracketedValues` values, and Graph's transport params
 * (`access_token[x]`) are left as the flat name.
 */
export function nestBracketParams(params: Record<string, unknown>): Record<string, unknown> {
  const keys = Object.keys(params);
  if (!keys.some((k) => k.includes('['))) return params;
  const built = new WeakSet<object>();
  const container = (): Record<string, unknown> => {
    const c = {};
    built.add(c);
    return c;
  };
  const out = container();
  // Where each list's next `[]` goes: counted, not re-read from its keys (one name with 100,000 values took minutes).
  const nextIndex = new WeakMap<object, number>();
  const append = (node: Record<string, unknown>): string => {
    let i = nextIndex.get(node) ?? 0;
    while (Object.hasOwn(node, String(i))) i++;
    nextIndex.set(node, i + 1);
    return String(i);
  };
  // Nesting costs far more than the parse: bounded, so a large form can't buy much CPU.
  let budget: number = LIMITS.bracketedValues;
  for (const key of keys) {
    const value = params[key];
    const m = BRACKETED.exec(key);
    const path = m ? [m[1], ...m[2].slice(1, -1).split('][')] : [];
    const values = Array.isArray(value) ? value.length : 1;
    // Transport params are read flat (the token, appsecret_proof): a bracketed one stays a name validation refuses,
    // never a proof nobody checks.
    if (
      !m ||
      path.length > LIMITS.depth ||
      (GRAPH_TRANSPORT_PARAMS as readonly string[]).includes(path[0]) ||
      values > budget
    ) {
      define(out, key, value);
      continue;
    }
    budget -= values;
    let node = out;
    for (const step of path.slice(0, -1)) {
      const name = step === '' ? append(node) : step;
      const child = Object.hasOwn(node, name) ? node[name] : undefined;
      if (child && typeof child === 'object' && built.has(child)) node = child as Record<string, unknown>;
      else define(node, name, (node = container()));
    }
    const last = path[path.length - 1];
    // `fields[]=a&fields[]=b` may arrive as one name with a list of values.
    for (const v of last === '' && Array.isArray(value) ? value : [value]) {
      define(node, last === '' ? append(node) : last, v);
    }
  }
  return asLists(out, built) as Record<string, unknown>;
}

function asLists(node: unknown, built: WeakSet<object>): unknown {
  if (!node || typeof node !== 'object' || !built.has(node)) return node;
  const obj = node as Record<string, unknown>;
  const keys = Object.keys(obj);
  for (const k of keys) define(obj, k, asLists(obj[k], built));
  const isList = keys.length > 0 && keys.every((k) => INDEX.test(k) && Number(k) < keys.length);
  return isList ? keys.map((_, i) => obj[String(i)]) : obj;
}

function define(obj: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

/**
 * A form-encoded body's params, a repeated name as the list of its values (as Fastify's form parser gives them), every
 * name an own property (`__proto__` is a plain key). Linear in the body: this runs before the caller is known.
 */
export function parseFormBody(text: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of new URLSearchParams(text)) {
    const had = Object.hasOwn(out, name) ? out[name] : undefined;
    if (Array.isArray(had)) had.push(value);
    else define(out, name, had === undefined ? value : [had, value]);
  }
  return out;
}

export type JsonParseResult = { ok: true; value: unknown } | { ok: false; reason: string };

/**
 * JSON as Graph reads it: standard JSON, plus strings in single quotes. Integers too large to be
 * exact stay as their digits (a string), so long IDs keep every digit. Never throws.
 */
export function parseGraphJson(text: string): JsonParseResult {
  let i = 0;
  const fault = (what: string): never => {
    throw new JsonFault(i >= text.length ? 'unexpected end of input' : `unexpected ${what} at position ${i}`);
  };
  const char = () => JSON.stringify(text[i]);
  const space = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i])) i++;
  };

  const value = (depth: number): unknown => {
    if (depth > LIMITS.depth) throw new JsonFault(`nesting deeper than ${LIMITS.depth} levels`);
    space();
    const c = text[i];
    if (c === '{') return object(depth);
    if (c === '[') return list(depth);
    if (c === '"' || c === "'") return string();
    if (c === '-' || (c >= '0' && c <= '9')) return numberLiteral();
    for (const [word, v] of [
      ['true', true],
      ['false', false],
      ['null', null],
    ] as const) {
      if (text.startsWith(word, i)) {
        i += word.length;
        return v;
      }
    }
    return fault(`character ${char()}`);
  };

  const object = (depth: number): Record<string, unknown> => {
    const out: Record<string, unknown> = {};
    i++;
    space();
    if (text[i] === '}') {
      i++;
      return out;
    }
    for (;;) {
      space();
      if (text[i] !== '"' && text[i] !== "'") fault(`character ${char()} (expected a quoted key)`);
      const key = string();
      space();
      if (text[i] !== ':') fault(`character ${char()} (expected ':')`);
      i++;
      Object.defineProperty(out, key, {
        value: value(depth + 1),
        enumerable: true,
        writable: true,
        configurable: true,
      });
      space();
      if (text[i] === ',') {
        i++;
        continue;
      }
      if (text[i] === '}') {
        i++;
        return out;
      }
      fault(`character ${char()} (expected ',' or '}')`);
    }
  };

  const list = (depth: number): unknown[] => {
    const out: unknown[] = [];
    i++;
    space();
    if (text[i] === ']') {
      i++;
      return out;
    }
    for (;;) {
      out.push(value(depth + 1));
      space();
      if (text[i] === ',') {
        i++;
        continue;
      }
      if (text[i] === ']') {
        i++;
        return out;
      }
      fault(`character ${char()} (expected ',' or ']')`);
    }
  };

  const ESCAPES: Record<string, string> = {
    '"': '"',
    "'": "'",
    '\\': '\\',
    '/': '/',
    b: '\b',
    f: '\f',
    n: '\n',
    r: '\r',
    t: '\t',
  };
  const string = (): string => {
    const quote = text[i++];
    let out = '';
    while (i < text.length && text[i] !== quote) {
      if (text[i] !== '\\') {
        out += text[i++];
        continue;
      }
      i++;
      const e = text[i];
      if (e === 'u') {
        const hex = text.slice(i + 1, i + 5);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) fault('escape sequence');
        out += String.fromCharCode(parseInt(hex, 16));
        i += 5;
      } else if (e !== undefined && Object.hasOwn(ESCAPES, e)) {
        out += ESCAPES[e];
        i++;
      } else {
        fault('escape sequence');
      }
    }
    if (i >= text.length) fault('end of input');
    i++;
    return out;
  };

  const numberLiteral = (): number | string => {
    NUMBER.lastIndex = i;
    const match = NUMBER.exec(text);
    if (!match) return fault(`character ${char()}`);
    i += match[0].length;
    const n = Number(match[0]);
    const integer = match[2] === undefined && match[3] === undefined;
    return integer && !Number.isSafeInteger(n) ? match[0] : n;
  };

  try {
    const result = value(0);
    space();
    if (i < text.length) fault(`character ${char()} after the value`);
    return { ok: true, value: result };
  } catch (e) {
    if (e instanceof JsonFault) return { ok: false, reason: e.message };
    throw e;
  }
}

class JsonFault extends Error {}
const NUMBER = /-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;

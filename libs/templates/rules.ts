// A small rule language on top of class-validator and class-transformer.
//
// Each schema property carries exactly one ordered list of checks (one class-validator
// constraint), so the first failing check is the one reported and the order is the order written.
// Nested objects are built by our own @Transform so that anything that is not an object arrives
// as a value the rules can name ("must be an object") instead of a class-transformer surprise.
import { Expose, plainToInstance, Transform } from 'class-transformer';
import { registerDecorator, ValidateNested } from 'class-validator';

/** What a failing check reports: a rule phrase, and a path below the checked place if any. */
export interface Issue {
  phrase: string;
  sub?: (string | number)[];
  // Graph's error_subcode for this rule, if it has one.
  subcode?: number;
}

export const SKIP = Symbol('skip');
export type CheckResult = string | Issue | typeof SKIP | undefined;
/** `owner` is the object that holds the property, already built (coerced values). */
export type Check = (value: any, owner: any) => CheckResult;
export type Ctor<T = object> = new () => T;

// --- composing decorators ---

function rule(checks: readonly Check[]): PropertyDecorator {
  return (target, propertyName) => {
    registerDecorator({
      name: 'rule',
      target: target.constructor,
      propertyName: propertyName as string,
      validator: {
        validate: (value, args) => runChecks(checks, value, args?.object) === undefined,
        defaultMessage: (args) => encodeIssue(runChecks(checks, args?.value, args?.object) ?? { phrase: 'is invalid' }),
      },
    });
  };
}

function runChecks(checks: readonly Check[], value: unknown, owner: unknown): Issue | undefined {
  for (const check of checks) {
    const result = check(value, owner);
    if (result === SKIP) return undefined;
    if (result === undefined) continue;
    return typeof result === 'string' ? { phrase: result } : result;
  }
  return undefined;
}

// class-validator carries messages as strings; the issue travels JSON-encoded and schema.ts decodes it.
export function encodeIssue(issue: Issue): string {
  return JSON.stringify(issue);
}

function compose(...decorators: PropertyDecorator[]): PropertyDecorator {
  return (target, key) => decorators.forEach((d) => d(target, key));
}

const toClassOnly = { toClassOnly: true } as const;
export const BUILD_OPTIONS = { excludeExtraneousValues: true, exposeUnsetFields: false } as const;

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Builds a schema instance from a plain object (only exposed properties are copied). */
export function build<T extends object>(cls: Ctor<T>, raw: Record<string, unknown>): T {
  return plainToInstance(cls, raw, BUILD_OPTIONS);
}

export type Resolver = (raw: Record<string, unknown>, owner: Record<string, unknown>) => Ctor;

/** A scalar property: the checks run in order, the first failure is reported. */
export function Field(...checks: Check[]): PropertyDecorator {
  return compose(Expose(), rule(checks));
}

/** Rewrites the incoming value before the checks run (e.g. a number payload becomes a string). */
export function Coerce(fn: (value: unknown, owner: Record<string, unknown>) => unknown): PropertyDecorator {
  return Transform(({ value, obj }) => fn(value, obj), toClassOnly);
}

/** A nested object whose class may depend on its content (`resolve`). Checks run before its fields. */
export function Nested(resolve: Resolver, ...checks: Check[]): PropertyDecorator {
  return compose(
    Expose(),
    Transform(({ obj, key }) => {
      const raw = obj[key];
      return isPlainObject(raw) ? build(resolve(raw, obj), raw) : raw;
    }, toClassOnly),
    rule([requireObject, ...checks]),
    ValidateNested({ message: encodeIssue({ phrase: 'must be an object' }) }),
  );
}

/** An array of nested objects. Checks (sizes…) run on the array before its items. */
export function NestedArray(resolve: Resolver, ...checks: Check[]): PropertyDecorator {
  return compose(
    Expose(),
    Transform(({ obj, key }) => {
      const raw = obj[key];
      if (!Array.isArray(raw)) return raw;
      return raw.map((item) => (isPlainObject(item) ? build(resolve(item, obj), item) : new NotAnObject()));
    }, toClassOnly),
    rule([requireArray, ...checks]),
    ValidateNested({ message: encodeIssue({ phrase: 'must be an object' }) }),
  );
}

// Stands in for an array item that is not an object, so it is reported in index order.
export class NotAnObject {
  @Shape(() => 'must be an object')
  $self?: never;
}

// Run before the caller's checks, so a value of the wrong kind is named as such first.
const requireObject: Check = (v) => (v === undefined || isPlainObject(v) ? undefined : 'must be an object');
const requireArray: Check = (v) => (v === undefined || Array.isArray(v) ? undefined : 'must be an array');

/**
 * A rule on the whole object (exactly one of…, at least one of…). Put it on a `$`-named property:
 * such properties are never read from the input, never reported in paths, never returned.
 */
export function Shape(check: (owner: any) => CheckResult): PropertyDecorator {
  return rule([(_, owner) => check(owner)]);
}

/**
 * Refuses fields the schema does not know, in input order, at the position where it is declared.
 * `allowed` adds names that are accepted but not kept (Graph transport parameters).
 */
export function KnownFields(
  known: readonly string[],
  options: { allowed?: readonly string[]; unsupported?: Record<string, string> } = {},
): PropertyDecorator {
  const accepted = new Set([...known, ...(options.allowed ?? [])]);
  // A Map, not the object: input keys such as `toString` or `__proto__` must not reach the prototype.
  const unsupported = new Map(Object.entries(options.unsupported ?? {}));
  return compose(
    Expose(),
    Transform(({ obj }) => Object.keys(obj), toClassOnly),
    rule([
      (keys: string[]) => {
        for (const key of keys) {
          if (accepted.has(key)) continue;
          return { phrase: unsupported.get(key) ?? 'is not a known field', sub: [key] };
        }
        return undefined;
      },
    ]),
  );
}

// --- checks ---

export const optional: Check = (v) => (v === undefined ? SKIP : undefined);
export const required: Check = (v) => (v === undefined ? 'is required' : undefined);
/** Skips the remaining checks unless `pred(owner)` holds. */
export const when =
  (pred: (owner: any) => boolean): Check =>
  (_, owner) =>
    pred(owner) ? undefined : SKIP;

export const string: Check = (v) => (typeof v === 'string' ? undefined : 'must be a string');
export const nonEmpty: Check = (v) => (v === '' ? 'must not be empty' : undefined);
export const number: Check = (v) => (typeof v === 'number' && Number.isFinite(v) ? undefined : 'must be a number');
export const array: Check = (v) => (Array.isArray(v) ? undefined : 'must be an array');
export const boolean: Check = (v) => (typeof v === 'boolean' ? undefined : 'must be a boolean');

/** Counts Unicode code points, so an emoji outside the BMP counts as one character. */
export function charCount(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

export const maxChars =
  (max: number): Check =>
  (v) =>
    typeof v === 'string' && charCount(v) > max ? `must be at most ${max} characters` : undefined;

export const fewerThan =
  (limit: number): Check =>
  (v) =>
    typeof v === 'string' && charCount(v) >= limit ? `must be fewer than ${limit} characters` : undefined;

export const oneOf =
  (values: readonly string[]): Check =>
  (v) =>
    values.includes(v) ? undefined : `must be one of [${values.join(', ')}]`;

export const items =
  (min: number, max: number): Check =>
  (v) => {
    if (!Array.isArray(v)) return undefined;
    if (min === max && v.length !== min) return `must have exactly ${min} item${min === 1 ? '' : 's'}`;
    if (v.length < min) return `must have at least ${min} item${min === 1 ? '' : 's'}`;
    if (v.length > max) return `must have at most ${max} items`;
    return undefined;
  };

/** Applies checks to every item of an array of scalars, reporting `[index]`. */
export const each =
  (...checks: Check[]): Check =>
  (v, owner) => {
    if (!Array.isArray(v)) return undefined;
    for (let i = 0; i < v.length; i++) {
      const issue = runChecks(checks, v[i], owner);
      if (issue) return { phrase: issue.phrase, sub: [i, ...(issue.sub ?? [])] };
    }
    return undefined;
  };

export function isHttpUrl(v: unknown): boolean {
  if (typeof v !== 'string' || /\s/.test(v)) return false;
  try {
    const url = new URL(v);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname.length > 0;
  } catch {
    return false;
  }
}

export const httpUrl: Check = (v) => (isHttpUrl(v) ? undefined : 'must be a valid URL');

/**
 * An https URL, or plain http to this machine (a bot developed locally): what a login link opens carries a
 * token that names the person to the bot, which must not cross a network in clear text.
 */
export const httpsOrLoopbackUrl: Check = (v) => {
  if (!isHttpUrl(v)) return 'must be a valid URL';
  const { protocol, hostname } = new URL(v);
  const loopback = hostname === 'localhost' || hostname === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
  return protocol === 'https:' || loopback ? undefined : 'must be an https URL';
};

/** An https URL naming a domain: no IP address, no localhost (Messenger's whitelisted_domains rule). */
export const httpsDomainUrl: Check = (v) => {
  const bad = 'must be an https URL with a fully qualified domain name';
  if (!isHttpUrl(v)) return bad;
  const { protocol, hostname } = new URL(v);
  if (protocol !== 'https:') return bad;
  const isIp = /^\d{1,3}(\.\d{1,3}){3}$/.test(hostname) || hostname.startsWith('[');
  if (isIp || hostname === 'localhost' || !hostname.includes('.') || hostname.endsWith('.localhost')) return bad;
  return undefined;
};

// E.164: a plus, a country code that does not start with 0, at most 15 digits in all.
export const e164: Check = (v) =>
  typeof v === 'string' && /^\+[1-9]\d{6,14}$/.test(v)
    ? undefined
    : 'must be a phone number in +E.164 format (e.g. +15105551234)';

const CURRENCIES = new Set(Intl.supportedValuesOf('currency'));
export const currency: Check = (v) =>
  typeof v === 'string' && /^[A-Z]{3}$/.test(v) && CURRENCIES.has(v) ? undefined : 'must be an ISO 4217 currency code';

export const locale: Check = (v) =>
  v === 'default' || (typeof v === 'string' && /^[a-z]{2}_[A-Z]{2}$/.test(v))
    ? undefined
    : 'must be default or a locale like en_US';

// --- coercions (Graph is lenient with scalars, notably in form-encoded bodies) ---

/** A finite number becomes its decimal string; anything else is left for the checks. */
export const toStringish = (v: unknown): unknown => (typeof v === 'number' && Number.isFinite(v) ? String(v) : v);
/** A numeric string becomes a number; anything else is left for the checks. */
export const toNumberish = (v: unknown): unknown =>
  typeof v === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(v) ? Number(v) : v;
/** "true"/"false", and "1"/"0" (PHP's http_build_query writes booleans so), become booleans. */
export const toBooleanish = (v: unknown): unknown =>
  v === 'true' || v === '1' ? true : v === 'false' || v === '0' ? false : v;
export const toLowerCase = (v: unknown): unknown => (typeof v === 'string' ? v.toLowerCase() : v);
export const toUpperCase = (v: unknown): unknown => (typeof v === 'string' ? v.toUpperCase() : v);

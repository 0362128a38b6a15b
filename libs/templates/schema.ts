// Runs a schema class over untrusted input and turns the first failure into Graph's error.
import { validateSync, ValidationError } from 'class-validator';
import { LIMITS } from './constants';
import { build, Ctor, isPlainObject, Issue } from './rules';
import type { GraphValidationError, ValidationResult } from './types';

export type Path = (string | number)[];

/**
 * Graph's bracket notation: `message[attachment][payload][elements][3][title]`.
 * The root is `body`; an empty field name shows as `""`.
 */
export function formatParam(path: Path): string {
  if (path.length === 0) return 'body';
  const name = (p: string | number) => (p === '' ? '""' : String(p));
  return (
    name(path[0]) +
    path
      .slice(1)
      .map((p) => `[${name(p)}]`)
      .join('')
  );
}

export function graphError(path: Path, phrase: string, subcode?: number): GraphValidationError {
  const param = formatParam(path);
  return { code: 100, message: `param ${param} ${phrase}`, param, ...(subcode !== undefined ? { subcode } : {}) };
}

export function fail<T>(path: Path, phrase: string): ValidationResult<T> {
  return { ok: false, error: graphError(path, phrase) };
}

/**
 * Validates `input` against `schema` and returns the first failure in schema order
 * (depth first, array items by index), or the normalized plain value.
 * `prepare` may attach context to the built instance (e.g. what is already stored).
 */
export function runSchema<T>(
  schema: Ctor,
  input: unknown,
  root: Path,
  prepare?: (instance: any) => void,
): ValidationResult<T> {
  const clean = sanitize(input, root);
  if (!clean.ok) return clean;
  if (!isPlainObject(clean.value)) return fail(root, 'must be an object');
  const instance = build(schema, clean.value);
  prepare?.(instance);
  const errors = validateSync(instance, {
    stopAtFirstError: true,
    forbidUnknownValues: false,
    validationError: { target: false, value: false },
  });
  const found = firstIssue(errors, root);
  if (found) return { ok: false, error: found };
  return { ok: true, value: toPlain(instance) as T };
}

function firstIssue(errors: ValidationError[], owner: Path): GraphValidationError | undefined {
  for (const error of errors) {
    // `$` properties are object-level rules: they report at the owner's path.
    const self = error.property === undefined || error.property.startsWith('$');
    const here = self ? owner : [...owner, error.property];
    const messages = Object.values(error.constraints ?? {});
    if (messages.length > 0) return decode(messages[0], owner, here);
    const inner = error.children?.length ? firstIssue(error.children, here) : undefined;
    if (inner) return inner;
  }
  return undefined;
}

function decode(message: string, owner: Path, here: Path): GraphValidationError {
  let issue: Issue;
  try {
    issue = JSON.parse(message) as Issue;
  } catch {
    issue = { phrase: message };
  }
  // %name% names a sibling of the checked property by its full param path.
  const phrase = issue.phrase.replace(/%([a-z_]+)%/g, (_, name: string) => formatParam([...owner, name]));
  return graphError([...here, ...(issue.sub ?? [])], phrase, issue.subcode);
}

// Copies the input into plain JSON-like data: drops undefined and null object values (Graph treats
// them as absent), keeps every own key (even `__proto__`, defined, not assigned), and refuses
// nesting deeper than LIMITS.depth so hostile bodies cannot exhaust the stack.
function sanitize(input: unknown, root: Path): ValidationResult<unknown> {
  let tooDeep: Path | undefined;
  // class-transformer takes an object's own `constructor` for its class and throws; no schema has that field.
  let constructorAt: Path | undefined;
  const copy = (value: unknown, depth: number, path: Path): unknown => {
    if (tooDeep || constructorAt) return undefined;
    if (typeof value !== 'object' || value === null) return value;
    if (depth > LIMITS.depth) {
      tooDeep = path;
      return undefined;
    }
    if (Array.isArray(value)) return value.map((item, i) => copy(item, depth + 1, [...path, i]));
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value)) {
      if (key === 'constructor') {
        constructorAt = [...path, key];
        return undefined;
      }
      const v = copy((value as Record<string, unknown>)[key], depth + 1, [...path, key]);
      if (v === undefined || v === null) continue;
      Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true });
    }
    return out;
  };
  const value = copy(input, 0, root);
  if (tooDeep) return fail(tooDeep, `must not be nested more than ${LIMITS.depth} levels deep`);
  if (constructorAt) return fail(constructorAt, 'is not a known field');
  return { ok: true, value };
}

// The normalized value: plain objects in schema order, without `$` rules or absent fields.
function toPlain(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(toPlain);
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    if (key.startsWith('$')) continue;
    const v = (value as Record<string, unknown>)[key];
    if (v === undefined || v === null) continue;
    out[key] = toPlain(v);
  }
  return out;
}

// Graph's batch request (`POST /` with `batch=[…]`): parsing and checking the operations. Pure: no Nest, no I/O.

export const MAX_BATCH_OPERATIONS = 50;
const METHODS = ['GET', 'POST', 'DELETE'] as const;
export type BatchMethod = (typeof METHODS)[number];

export interface BatchOperation {
  method: BatchMethod;
  // The Graph path and query, without the leading slash or a version: `me/messages?…`. May hold
  // `{result=name:$.path}` references, resolved just before the operation runs (resolveReferences).
  relativeUrl: string;
  // A form-encoded body, as Graph takes it (an object is sent as JSON).
  body?: string | Record<string, unknown>;
  // Graph's dependencies: this operation's name, the earlier ones it waits for (named in `depends_on` or referenced
  // by `{result=…}`), and whether its own answer is left out when a later operation references it and it succeeded.
  name?: string;
  dependsOn: string[];
  omitResponseOnSuccess: boolean;
}

// `{result=name:$.path}`: a value of an earlier operation's answer, by a JSONPath of plain steps (`.key`, `[n]`,
// `.*`, `[*]`); filters and scripts are refused, as on Graph.
const REFERENCE = /\{result=([^:{}]*):([^{}]*)\}/g;
const NAME = /^[A-Za-z0-9_-]{1,64}$/;
type PathStep = { key: string } | { index: number } | { all: true };

export function parseJsonPath(path: string): PathStep[] | null {
  if (!path.startsWith('$')) return null;
  const steps: PathStep[] = [];
  const step = /\.([A-Za-z0-9_-]+)|\.\*|\[(\d{1,6})\]|\[\*\]|\['([^'\]]{1,100})'\]/y;
  let at = 1;
  while (at < path.length) {
    step.lastIndex = at;
    const m = step.exec(path);
    if (!m) return null;
    if (m[1] !== undefined) steps.push({ key: m[1] });
    else if (m[2] !== undefined) steps.push({ index: Number(m[2]) });
    else if (m[3] !== undefined) steps.push({ key: m[3] });
    else steps.push({ all: true });
    at = step.lastIndex;
  }
  return steps;
}

/** The values a JSONPath of plain steps selects in `value` (several through a wildcard). */
export function selectJsonPath(value: unknown, steps: PathStep[]): unknown[] {
  let current: unknown[] = [value];
  for (const s of steps) {
    const next: unknown[] = [];
    for (const v of current) {
      if (v === null || typeof v !== 'object') continue;
      if ('all' in s) next.push(...(Array.isArray(v) ? v : Object.values(v)));
      else if ('index' in s) {
        if (Array.isArray(v) && s.index < v.length) next.push(v[s.index]);
      } else if (!Array.isArray(v) && Object.prototype.hasOwnProperty.call(v, s.key)) next.push((v as Record<string, unknown>)[s.key]);
    }
    current = next;
  }
  return current.filter((v) => v !== undefined);
}

type OperationText = Pick<BatchOperation, 'relativeUrl' | 'body'>;

// Where references may stand: the relative URL, a form body, a JSON body's string values.
const textsOf = (op: OperationText): string[] => [
  op.relativeUrl,
  ...(typeof op.body === 'string' ? [op.body] : op.body ? Object.values(op.body).filter((v): v is string => typeof v === 'string') : []),
];

const referencesIn = (op: OperationText) => textsOf(op).flatMap((t) => [...t.matchAll(REFERENCE)].map((m) => ({ name: m[1], path: m[2] })));

// An earlier named operation's answer: its status, and its body read once as JSON (undefined when not JSON).
export interface EarlierAnswer {
  code: number;
  json: unknown;
}

// Bounds on what references may do: each value is looked up in an answer already parsed, and what they fill in is
// capped as it grows, so a batch of many references (or of large values) costs no more than a large request.
export const MAX_REFERENCES_PER_OPERATION = 50;
const MAX_RESOLVED_URL_CHARS = 64 * 1024;
const MAX_RESOLVED_BODY_CHARS = 1024 * 1024;

/**
 * The operation with each `{result=…}` replaced by what it selects in the named operation's answer (several values
 * joined with commas, objects as JSON): URL-encoded in the relative URL and a form body, as written in a JSON body's
 * strings. An error message when an operation it depends on failed, a reference selects nothing, or the values make
 * the operation too large.
 */
export function resolveReferences(op: BatchOperation, answers: ReadonlyMap<string, EarlierAnswer>): BatchOperation | string {
  for (const name of op.dependsOn) {
    const parent = answers.get(name);
    if (!parent || parent.code < 200 || parent.code >= 300) return `This operation depends on operation "${name}", which failed`;
  }
  let problem: string | null = null;
  let bodyBudget = MAX_RESOLVED_BODY_CHARS;
  // Fills in one text, within `budget` characters; null once a reference failed or the budget ran out.
  const fill = (text: string, encode: boolean, budget: number): string | null => {
    let out = '';
    let at = 0;
    for (const m of text.matchAll(REFERENCE)) {
      const [whole, name, path] = m;
      const values = selectJsonPath(answers.get(name)!.json, parseJsonPath(path)!);
      if (!values.length) {
        problem = `{result=${name}:${path}} selects nothing in operation "${name}"'s answer`;
        return null;
      }
      const joined = values.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join(',');
      out += text.slice(at, m.index) + (encode ? encodeURIComponent(joined) : joined);
      at = m.index! + whole.length;
      if (out.length > budget) {
        problem = `the values of {result=…} make this operation longer than ${budget} characters`;
        return null;
      }
    }
    out += text.slice(at);
    return out.length > budget ? ((problem = `the values of {result=…} make this operation longer than ${budget} characters`), null) : out;
  };
  const relativeUrl = fill(op.relativeUrl, true, MAX_RESOLVED_URL_CHARS);
  if (relativeUrl === null) return problem!;
  let body: BatchOperation['body'];
  if (typeof op.body === 'string') {
    const filled = fill(op.body, true, bodyBudget);
    if (filled === null) return problem!;
    body = filled;
  } else if (op.body) {
    const entries: [string, unknown][] = [];
    for (const [k, v] of Object.entries(op.body)) {
      if (typeof v !== 'string') {
        entries.push([k, v]);
        continue;
      }
      const filled = fill(v, false, bodyBudget);
      if (filled === null) return problem!;
      bodyBudget -= filled.length;
      entries.push([k, filled]);
    }
    body = Object.fromEntries(entries);
  }
  // What a value brought in must not make the path leave Graph (a `..`, say): checked again as written.
  if (relativePath(relativeUrl) === null) return 'relative_url must be a relative Graph path once its {result=…} values are in';
  return { ...op, relativeUrl, ...(body === undefined ? {} : { body }) };
}

export type BatchParse = { ok: true; operations: BatchOperation[] } | { ok: false; message: string };

const VERSION_PREFIX = /^v\d+\.\d+(?=[/?#]|$)\/?/;

// What an operation may name: a Graph path of this platform, relative (no scheme, host, `..`, or a batch inside a
// batch), so a batch can reach nothing a single call couldn't.
function relativePath(raw: string): string | null {
  let url = raw.replace(/^\//, '');
  url = url.replace(VERSION_PREFIX, '');
  const path = url.split(/[?#]/, 1)[0];
  if (!path || path.startsWith('/') || path.includes('..') || path.includes('//') || path.includes('\\') || /^[a-z][a-z0-9+.-]*:/i.test(url)) return null;
  if (/[\u0000-\u001f\u007f\s]/.test(url)) return null;
  // A segment that decodes to `.` or `..` (`%2e%2e`) would be resolved away by URL parsing, and one that decodes to
  // a slash could be read as two: either could step out of the Graph prefix.
  for (const segment of path.split('/')) {
    let decoded: string;
    try {
      decoded = decodeURIComponent(segment);
    } catch {
      return null;
    }
    if (decoded === '.' || decoded === '..' || /[/\\]/.test(decoded)) return null;
  }
  return url.split('#', 1)[0];
}

/** Reads Graph's `batch` param (a JSON string or an array): at most 50 operations, each a method and a relative URL. */
export function parseBatch(value: unknown): BatchParse {
  let ops = value;
  if (typeof ops === 'string') {
    try {
      ops = JSON.parse(ops);
    } catch {
      return { ok: false, message: 'param batch must be a JSON array of operations' };
    }
  }
  if (!Array.isArray(ops) || ops.length === 0) return { ok: false, message: 'param batch must be a JSON array of operations' };
  if (ops.length > MAX_BATCH_OPERATIONS) return { ok: false, message: `param batch holds at most ${MAX_BATCH_OPERATIONS} operations` };
  const operations: BatchOperation[] = [];
  for (const [i, op] of ops.entries()) {
    if (!op || typeof op !== 'object' || Array.isArray(op)) return { ok: false, message: `param batch[${i}] must be an object` };
    const { method, relative_url: url, body, name, depends_on: dependsOn, omit_response_on_success: omit } = op as Record<string, unknown>;
    const m = typeof method === 'string' ? method.toUpperCase() : method;
    if (!(METHODS as readonly unknown[]).includes(m)) return { ok: false, message: `param batch[${i}][method] must be one of GET, POST, DELETE` };
    if (typeof url !== 'string') return { ok: false, message: `param batch[${i}][relative_url] is required` };
    // The template is checked as written (a reference's braces and JSONPath are plain characters here), and again
    // once its values are in (resolveReferences).
    const relativeUrl = relativePath(url);
    if (relativeUrl === null) return { ok: false, message: `param batch[${i}][relative_url] must be a relative Graph path` };
    if (body !== undefined && typeof body !== 'string' && (typeof body !== 'object' || body === null || Array.isArray(body))) {
      return { ok: false, message: `param batch[${i}][body] must be a form-encoded string` };
    }
    if (name !== undefined && (typeof name !== 'string' || !NAME.test(name))) {
      return { ok: false, message: `param batch[${i}][name] must be 1 to 64 letters, digits, _ or -` };
    }
    if (name !== undefined && operations.some((o) => o.name === name)) return { ok: false, message: `param batch[${i}][name] ${name} is taken by an earlier operation` };
    if (omit !== undefined && typeof omit !== 'boolean') return { ok: false, message: `param batch[${i}][omit_response_on_success] must be a boolean` };
    const earlier = (n: string) => operations.some((o) => o.name === n);
    const waits = new Set<string>();
    if (dependsOn !== undefined) {
      if (typeof dependsOn !== 'string' || !earlier(dependsOn)) return { ok: false, message: `param batch[${i}][depends_on] must name an earlier operation` };
      waits.add(dependsOn);
    }
    const operation = { method: m as BatchMethod, relativeUrl, ...(body === undefined ? {} : { body: body as BatchOperation['body'] }) };
    const refs = referencesIn(operation);
    if (refs.length > MAX_REFERENCES_PER_OPERATION) {
      return { ok: false, message: `param batch[${i}] holds more than ${MAX_REFERENCES_PER_OPERATION} {result=…} references` };
    }
    for (const ref of refs) {
      if (!earlier(ref.name)) return { ok: false, message: `param batch[${i}] refers to {result=${ref.name.slice(0, 64)}:…}, which is not an earlier named operation` };
      if (!parseJsonPath(ref.path)) return { ok: false, message: `param batch[${i}] has an unsupported JSONPath in {result=${ref.name}:…}: use $ with .key, [n], .* or [*]` };
      waits.add(ref.name);
    }
    if (textsOf(operation).some((t) => (t.match(/\{result=/g)?.length ?? 0) !== [...t.matchAll(REFERENCE)].length)) {
      return { ok: false, message: `param batch[${i}] has a malformed {result=name:$.path} reference` };
    }
    operations.push({
      ...operation,
      ...(name === undefined ? {} : { name: name as string }),
      dependsOn: [...waits],
      omitResponseOnSuccess: omit !== false,
    });
  }
  return { ok: true, operations };
}

/** Adds the batch's own credentials to an operation that names none. */
export function withCredentials<T extends OperationText>(op: T, credentials: Record<string, string>): T {
  const [path, query = ''] = op.relativeUrl.split('?', 2) as [string, string?];
  const params = new URLSearchParams(query);
  const bodyHas = (name: string) =>
    typeof op.body === 'string' ? new URLSearchParams(op.body).has(name) : op.body !== undefined && name in op.body;
  if (params.has('access_token') || bodyHas('access_token')) return op;
  for (const [k, v] of Object.entries(credentials)) params.set(k, v);
  return { ...op, relativeUrl: `${path}?${params.toString()}` };
}

// Graph's batch request (`POST /` with `batch=[…]`): parsing and checking the operations. Pure: no Nest, no I/O.

export const MAX_BATCH_OPERATIONS = 50;
const METHODS = ['GET', 'POST', 'DELETE'] as const;
export type BatchMethod = (typeof METHODS)[number];

export interface BatchOperation {
  method: BatchMethod;
  // The Graph path and query, without the leading slash or a version: `me/messages?…`.
  relativeUrl: string;
  // A form-encoded body, as Graph takes it (an object is sent as JSON).
  body?: string | Record<string, unknown>;
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
    const { method, relative_url: url, body } = op as Record<string, unknown>;
    const m = typeof method === 'string' ? method.toUpperCase() : method;
    if (!(METHODS as readonly unknown[]).includes(m)) return { ok: false, message: `param batch[${i}][method] must be one of GET, POST, DELETE` };
    if (typeof url !== 'string') return { ok: false, message: `param batch[${i}][relative_url] is required` };
    // Graph's JSONPath dependencies between operations ({result=name:$.id}) are not supported: refused, not guessed.
    if (url.includes('{result=') || (typeof body === 'string' && body.includes('{result='))) {
      return { ok: false, message: `param batch[${i}] uses a {result=…} dependency, which Switchboard does not support` };
    }
    const relativeUrl = relativePath(url);
    if (relativeUrl === null) return { ok: false, message: `param batch[${i}][relative_url] must be a relative Graph path` };
    if (body !== undefined && typeof body !== 'string' && (typeof body !== 'object' || body === null || Array.isArray(body))) {
      return { ok: false, message: `param batch[${i}][body] must be a form-encoded string` };
    }
    operations.push({ method: m as BatchMethod, relativeUrl, ...(body === undefined ? {} : { body: body as BatchOperation['body'] }) });
  }
  return { ok: true, operations };
}

/** Adds the batch's own credentials to an operation that names none. */
export function withCredentials(op: BatchOperation, credentials: Record<string, string>): BatchOperation {
  const [path, query = ''] = op.relativeUrl.split('?', 2) as [string, string?];
  const params = new URLSearchParams(query);
  const bodyHas = (name: string) =>
    typeof op.body === 'string' ? new URLSearchParams(op.body).has(name) : op.body !== undefined && name in op.body;
  if (params.has('access_token') || bodyHas('access_token')) return op;
  for (const [k, v] of Object.entries(credentials)) params.set(k, v);
  return { ...op, relativeUrl: `${path}?${params.toString()}` };
}

// Postgres stores no NUL character in text or jsonb, and no unpaired UTF-16 surrogate in jsonb; JSON and query
// strings can carry both (`\u0000`, `\ud800`), and a platform that passes them on fails inside its statement.
// The path of the first string or key holding one, found without recursion (bodies can nest deep).
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

export const UNSTORABLE_TEXT_PHRASE = 'must not contain a NUL character or an unpaired surrogate';

export function unstorableTextPath(value: unknown): (string | number)[] | undefined {
  const stack: [unknown, (string | number)[]][] = [[value, []]];
  while (stack.length) {
    const [v, path] = stack.pop()!;
    if (typeof v === 'string') {
      if (UNSTORABLE.test(v)) return path;
      continue;
    }
    if (!v || typeof v !== 'object' || ArrayBuffer.isView(v)) continue;
    if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push([v[i], [...path, i]]);
      continue;
    }
    const entries = Object.entries(v);
    for (let i = entries.length - 1; i >= 0; i--) {
      const [key, child] = entries[i];
      if (UNSTORABLE.test(key)) return [...path, key];
      stack.push([child, [...path, key]]);
    }
  }
  return undefined;
}

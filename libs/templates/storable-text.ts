// Postgres stores no NUL character in text or jsonb, and no unpaired UTF-16 surrogate in jsonb; JSON and query
// strings can carry both (`\u0000`, `\ud800`), and a platform that passes them on fails inside its statement.
// The path of the first string or key holding one, found without recursion (bodies can nest deep).
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

export const UNSTORABLE_TEXT_PHRASE = 'must not contain a NUL character or an unpaired surrogate';

const UNSTORABLE_ALL = new RegExp(UNSTORABLE.source, 'g');

// Text from outside that is kept, not refused (a bot's response body, a script's log line), made storable: each
// NUL and unpaired surrogate becomes U+FFFD, as a decoder does with bytes it can't read.
export function toStorableText(text: string): string {
  return UNSTORABLE.test(text) ? text.replace(UNSTORABLE_ALL, '\ufffd') : text;
}

// Each visited value keeps a link to its parent's step, not a copy of its path: a deep body costs its size.
interface Step {
  key: string | number;
  parent: Step | null;
}

export function unstorableTextPath(value: unknown): (string | number)[] | undefined {
  const pathOf = (step: Step | null) => {
    const path: (string | number)[] = [];
    for (let s = step; s; s = s.parent) path.push(s.key);
    return path.reverse();
  };
  const stack: [unknown, Step | null][] = [[value, null]];
  while (stack.length) {
    const [v, step] = stack.pop()!;
    if (typeof v === 'string') {
      if (UNSTORABLE.test(v)) return pathOf(step);
      continue;
    }
    if (!v || typeof v !== 'object' || ArrayBuffer.isView(v)) continue;
    if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push([v[i], { key: i, parent: step }]);
      continue;
    }
    const entries = Object.entries(v);
    for (let i = entries.length - 1; i >= 0; i--) {
      const [key, child] = entries[i];
      if (UNSTORABLE.test(key)) return pathOf({ key, parent: step });
      stack.push([child, { key, parent: step }]);
    }
  }
  return undefined;
}

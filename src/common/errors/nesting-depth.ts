// class-transformer recurses once per level of a body, so a body nested deeper than the stack made it throw a
// RangeError (a 500). No DTO nests anywhere near this deep. The path of the first level too deep, found
// without recursion. (Own `constructor` keys, the other input it chokes on, Nest's ValidationPipe strips.)
export const MAX_BODY_DEPTH = 32;

export function tooDeeplyNested(value: unknown, maxDepth = MAX_BODY_DEPTH): string | undefined {
  const stack: [unknown, string, number][] = [[value, '', 0]];
  while (stack.length) {
    const [v, path, depth] = stack.pop()!;
    if (!v || typeof v !== 'object') continue;
    if (depth >= maxDepth) return path || 'body';
    if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push([v[i], `${path}[${i}]`, depth + 1]);
      continue;
    }
    const entries = Object.entries(v);
    for (let i = entries.length - 1; i >= 0; i--) stack.push([entries[i][1], path ? `${path}.${entries[i][0]}` : entries[i][0], depth + 1]);
  }
  return undefined;
}

// What makes class-transformer throw instead of building a DTO (answered 500 before this check):
// - an own `constructor` key, at any depth: it takes that value for the object's class;
// - nesting deeper than the stack: it recurses once per level.
// No DTO has either; the body is walked without recursion and the first hazard is named with its path.
export const MAX_BODY_DEPTH = 32;

export function findTransformHazard(value: unknown, maxDepth = MAX_BODY_DEPTH): { field: string; message: string } | undefined {
  const stack: [unknown, string, number][] = [[value, '', 0]];
  while (stack.length) {
    const [v, path, depth] = stack.pop()!;
    if (!v || typeof v !== 'object') continue;
    if (depth >= maxDepth) return { field: path, message: `${path || 'body'} must not be nested more than ${maxDepth} levels deep` };
    if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push([v[i], `${path}[${i}]`, depth + 1]);
      continue;
    }
    if (Object.prototype.hasOwnProperty.call(v, 'constructor')) {
      const field = path ? `${path}.constructor` : 'constructor';
      return { field, message: `${field} is not a known field` };
    }
    const entries = Object.entries(v);
    for (let i = entries.length - 1; i >= 0; i--) stack.push([entries[i][1], path ? `${path}.${entries[i][0]}` : entries[i][0], depth + 1]);
  }
  return undefined;
}

// A LIKE pattern that matches `text` anywhere, lower-cased (compare with lower(column)), its own % and _ taken literally.
export function containsPattern(text: string): string {
  return `%${text.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

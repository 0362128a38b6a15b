// Graph-compatible routes live under /v{major}.{minor}/...; any version is accepted.
export const GRAPH_PREFIX_PATTERN = /^\/v\d+\.\d+(\/|$)/;
export const GRAPH_ROUTE_PREFIX = ':graphVersion';

export function isGraphPath(url: string): boolean {
  return GRAPH_PREFIX_PATTERN.test(url);
}

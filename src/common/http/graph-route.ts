// Graph-compatible routes live under /v{major}.{minor}/...; any version is accepted.
export const GRAPH_PREFIX_PATTERN = /^\/v\d+\.\d+(\/|$)/;
export const GRAPH_ROUTE_PREFIX = ':graphVersion';

export function isGraphPath(url: string): boolean {
  return GRAPH_PREFIX_PATTERN.test(url);
}

// What an unversioned Graph call (`/me/messages`, `/{page_id}/subscribed_apps`) runs as: Graph answers those with
// the app's default version; ours is the version the platform documents.
export const DEFAULT_GRAPH_VERSION = 'v25.0';

// A Graph call names `me/<edge>`, a numeric id or `oauth/access_token`; no REST route starts with these, so only
// Graph calls are rewritten. A bare `/me` stays the person's own REST route (`GET /me`): a bot reads its Page at `/v25.0/me`.
const UNVERSIONED_GRAPH = /^\/(?:me\/|oauth\/access_token(?:[?#]|$)|\d{1,20}(?:[/?#]|$))/;

// Fastify's rewriteUrl: `/me/messages?…` → `/v25.0/me/messages?…`; everything else unchanged.
export function withGraphVersion(url: string): string {
  return UNVERSIONED_GRAPH.test(url) ? `/${DEFAULT_GRAPH_VERSION}${url}` : url;
}

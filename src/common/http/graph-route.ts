// Graph-compatible routes live under /v{major}.{minor}/...; any version is accepted.
export const GRAPH_PREFIX_PATTERN = /^\/v\d+\.\d+(?:[/?#]|$)/;
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

// Fastify's rewriteUrl: `/me/messages?…` → `/v25.0/me/messages?…`, and Graph's batch (`POST /` or `/v2.6/`) →
// `POST /v25.0` (or `/v2.6`);
// everything else unchanged (`GET /` is the chat app).
export function withGraphVersion(url: string, method?: string): string {
  if (method === 'POST') {
    // `/`, `/v25.0/` (a trailing slash, as SDKs write it) and `/v25.0` are all the batch route.
    const batch = /^\/(?:(v\d+\.\d+)\/)?((?:[?#].*)?)$/.exec(url);
    if (batch) return `/${batch[1] ?? DEFAULT_GRAPH_VERSION}${batch[2]}`;
  }
  return UNVERSIONED_GRAPH.test(url) ? `/${DEFAULT_GRAPH_VERSION}${url}` : url;
}

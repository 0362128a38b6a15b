// Signed media URLs expire (src/media/media-url-signer.ts, MEDIA_URL_TTL_SECONDS): an open conversation
// re-fetches a message to get fresh ones when they have expired or an image fails to load. Pure, no DOM:
// media-refresh.spec.ts.
import type { MessageView } from '../api';

// Refresh a little before the expiry, so a tap on a thumbnail just then still opens the full image.
export const REFRESH_LEAD_MS = 5_000;
// Whatever the URLs say (the device's clock may be ahead of the server's), one message is re-fetched at
// most once a minute (the shortest TTL the server allows): no request loop, no flicker loop.
export const MIN_REFRESH_GAP_MS = 60_000;
// A re-fetch that failed (offline, 5xx) may be tried again after this.
export const FAILED_RETRY_MS = 30_000;

// Our signed URLs: …/media/<id>/<variant>?exp=<unix seconds>&sig=…. The expiry in ms; undefined for any
// other URL (a bot's own image host), which fetching the message again would not change.
export function signedExpiry(url: string | undefined): number | undefined {
  if (!url) return undefined;
  let u: URL;
  try {
    u = new URL(url, 'http://x');
  } catch {
    return undefined;
  }
  if (!/^\/media\/[^/]+\/[^/]+$/.test(u.pathname) || !u.searchParams.has('sig')) return undefined;
  const exp = Number(u.searchParams.get('exp'));
  return Number.isFinite(exp) && exp > 0 ? exp * 1000 : undefined;
}

// Every media URL a message draws: the person's uploads, a bot's attachment, a media template's elements, the
// picture of the persona it was sent as.
export function mediaUrls(m: MessageView): string[] {
  const out: string[] = [];
  if (m.persona?.profile_picture_url) out.push(m.persona.profile_picture_url);
  const add = (p: { url?: unknown; thumbnail_url?: unknown } | undefined) => {
    if (typeof p?.url === 'string') out.push(p.url);
    if (typeof p?.thumbnail_url === 'string') out.push(p.thumbnail_url);
  };
  for (const a of m.attachments ?? []) add(a.payload);
  const a = m.attachment as { type?: string; payload?: { template_type?: string; elements?: unknown } } | undefined;
  if (a?.type === 'template') {
    if (a.payload?.template_type === 'media' && Array.isArray(a.payload.elements))
      for (const el of a.payload.elements) add(el as { url?: unknown });
  } else if (a) add(a.payload as { url?: unknown });
  return out;
}

// When the first of the message's signed URLs expires; undefined when it has none.
export function messageExpiry(m: MessageView): number | undefined {
  let min: number | undefined;
  for (const url of mediaUrls(m)) {
    const exp = signedExpiry(url);
    if (exp !== undefined && (min === undefined || exp < min)) min = exp;
  }
  return min;
}

// Per message (mid): the time before which it is not re-fetched again. Infinity while a re-fetch is on its way.
export type RefreshLedger = Map<string, number>;

const allowed = (ledger: RefreshLedger, mid: string, now: number) => now >= (ledger.get(mid) ?? -Infinity);

// Messages whose URLs have expired (or are about to) and may be re-fetched now.
export function dueForRefresh(msgs: MessageView[], ledger: RefreshLedger, now: number): MessageView[] {
  return msgs.filter((m) => {
    const exp = messageExpiry(m);
    return exp !== undefined && now >= exp - REFRESH_LEAD_MS && allowed(ledger, m.mid, now);
  });
}

// A message whose media failed to load: re-fetched if it has signed URLs (the failure may be their expiry, or
// a server restarted with another secret) and it was not re-fetched within the gap.
export function mayRefreshAfterError(m: MessageView, ledger: RefreshLedger, now: number): boolean {
  return messageExpiry(m) !== undefined && allowed(ledger, m.mid, now);
}

export function markRefreshing(ledger: RefreshLedger, mids: string[]): void {
  for (const mid of mids) ledger.set(mid, Infinity);
}

// After the re-fetch: each message waits for its new URLs' expiry, and at least the gap; one the answer
// did not carry (the fetch failed) waits FAILED_RETRY_MS.
export function markRefreshed(ledger: RefreshLedger, mids: string[], fresh: MessageView[], now: number): void {
  const byMid = new Map(fresh.map((m) => [m.mid, m]));
  for (const mid of mids) {
    const m = byMid.get(mid);
    if (!m) {
      ledger.set(mid, now + FAILED_RETRY_MS);
      continue;
    }
    const exp = messageExpiry(m);
    ledger.set(mid, exp === undefined ? Infinity : Math.max(exp - REFRESH_LEAD_MS, now + MIN_REFRESH_GAP_MS));
  }
}

// The fewest GET /threads/:id/messages?after_seq=&limit= requests (limit at most `max`) that cover these seqs.
export function planFetches(seqs: number[], max = 100): { after_seq: number; limit: number }[] {
  const sorted = [...new Set(seqs)].sort((a, b) => a - b);
  const out: { after_seq: number; limit: number }[] = [];
  let start: number | undefined;
  let last = 0;
  for (const s of sorted) {
    if (start !== undefined && s - start < max) {
      last = s;
      continue;
    }
    if (start !== undefined) out.push({ after_seq: start - 1, limit: last - start + 1 });
    start = last = s;
  }
  if (start !== undefined) out.push({ after_seq: start - 1, limit: last - start + 1 });
  return out;
}

// Swaps the fresh media and persona picture (and nothing else) into the messages listed; others keep their identity.
export function swapMedia(list: MessageView[], fresh: MessageView[]): MessageView[] {
  const byMid = new Map(fresh.map((m) => [m.mid, m]));
  let changed = false;
  const out = list.map((m) => {
    const f = byMid.get(m.mid);
    if (!f) return m;
    const next: MessageView = { ...m };
    if (f.attachment !== undefined) next.attachment = f.attachment;
    if (f.attachments !== undefined) next.attachments = f.attachments;
    if (f.persona !== undefined) next.persona = f.persona;
    if (JSON.stringify(mediaUrls(next)) === JSON.stringify(mediaUrls(m))) return m;
    changed = true;
    return next;
  });
  return changed ? out : list;
}

import { createHmac, hkdfSync } from 'node:crypto';
import { parsePlatformMediaUrl } from '../../libs/templates';
import { safeEqual } from '../common/crypto/tokens';

// Signed, expiring media URLs: /media/<id>/<variant>?exp=<unix s>&sig=<HMAC-SHA256(id \n variant \n exp)>.
// Nest-free so unit tests (and the e2e tests that forge URLs) can use it.
export class MediaUrlSigner {
  private readonly key: Buffer;

  constructor(
    secret: Buffer,
    private readonly ttlSeconds: number,
    private readonly now: () => number = Date.now,
  ) {
    // A key of its own, derived from SECRETS_KEY (or MEDIA_URL_KEY): never the key that seals app secrets.
    this.key = Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), 'switchboard media url v1', 32));
  }

  sign(id: string, variant: string, expiresAt = Math.floor(this.now() / 1000) + this.ttlSeconds): { path: string; expiresAt: number } {
    const sig = this.mac(id, variant, expiresAt);
    return { path: `/media/${id}/${variant}?exp=${expiresAt}&sig=${sig}`, expiresAt };
  }

  // 'ok', or why the URL is refused (both are a 403 to the caller).
  verify(id: string, variant: string, exp: unknown, sig: unknown): 'ok' | 'expired' | 'bad_signature' {
    if (typeof exp !== 'string' || typeof sig !== 'string' || !/^\d{1,12}$/.test(exp)) return 'bad_signature';
    if (!safeEqual(sig, this.mac(id, variant, Number(exp)))) return 'bad_signature';
    return Number(exp) * 1000 < this.now() ? 'expired' : 'ok';
  }

  // A stored webhook item's media URLs signed again with a fresh expiry (same origin and variant), expired ones
  // included: what was stored to be sent later (a webhook retried hours after its event) goes out with live URLs.
  // Only where the platform itself put a URL it minted from a media id: `message.attachments[].payload.url` and a
  // media template's `elements[].url`. Text, template fields and anything else a sender wrote are left alone, or
  // anyone could paste an expired URL of another Page's media into a message and have it renewed for a bot.
  // A URL whose signature is not ours is left as it is. The stored item is not changed.
  resignUrls<T>(item: T): T {
    const message = (item as { message?: { attachments?: unknown } } | null)?.message;
    if (!message || !Array.isArray(message.attachments)) return item;
    const attachments = message.attachments.map((a: unknown) => {
      const att = a as { type?: unknown; payload?: Record<string, unknown> } | null;
      const payload = att?.payload;
      if (!payload || typeof payload !== 'object') return a;
      if (typeof payload.url === 'string') return { ...att, payload: { ...payload, url: this.resign(payload.url) } };
      if (att.type === 'template' && payload.template_type === 'media' && Array.isArray(payload.elements)) {
        const elements = payload.elements.map((el: unknown) => {
          const e = el as Record<string, unknown> | null;
          return e && typeof e.url === 'string' ? { ...e, url: this.resign(e.url) } : el;
        });
        return { ...att, payload: { ...payload, elements } };
      }
      return a;
    });
    return { ...item, message: { ...message, attachments } } as T;
  }

  private resign(url: string): string {
    const ref = parsePlatformMediaUrl(url);
    if (!ref || this.verify(ref.mediaId, ref.variant, ref.exp, ref.sig) === 'bad_signature') return url;
    return new URL(url).origin + this.sign(ref.mediaId, ref.variant).path;
  }

  private mac(id: string, variant: string, exp: number): string {
    return createHmac('sha256', this.key).update(`${id}\n${variant}\n${exp}`).digest('base64url');
  }
}

// Parses a single `bytes=` range; null = no usable Range header (serve the whole object);
// 'invalid' = syntactically a range but unsatisfiable (416). Multi-range is served whole, as RFC 9110 allows.
export function parseRangeHeader(header: string | undefined, size: number): { start: number; end: number } | null | 'invalid' {
  if (!header) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m) return header.trim().startsWith('bytes=') && !header.includes(',') ? 'invalid' : null;
  const [, a, b] = m;
  if (a === '' && b === '') return 'invalid';
  if (a === '') {
    // Suffix: the last N bytes.
    const n = Number(b);
    if (n === 0) return 'invalid';
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(a);
  const end = b === '' ? size - 1 : Math.min(Number(b), size - 1);
  if (start >= size || end < start) return 'invalid';
  return { start, end };
}

// Strong ETag from the content hash and the variant name: identical bytes, identical tag, across processes.
export const mediaEtag = (sha256: string, variant: string) => `"${sha256.slice(0, 32)}-${variant}"`;

export function etagMatches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  if (ifNoneMatch.trim() === '*') return true;
  return ifNoneMatch.split(',').some((t) => t.trim().replace(/^W\//, '') === etag);
}

// profile_pic for the User Profile API. Accounts store no picture, so a person's avatar is generated: their
// initials on a colour derived from their user id, as SVG. Graph answers profile_pic as a signed, expiring URL
// (platform-lookaside); ours is /avatars/{pageId}/{psid}?exp=&sig=. Nest-free so it is unit-tested alone.
import { createHash, createHmac, hkdfSync } from 'node:crypto';
import { safeEqual } from '../common/crypto/tokens';

export class AvatarUrlSigner {
  private readonly key: Buffer;

  constructor(
    secret: Buffer,
    private readonly ttlSeconds: number,
    private readonly now: () => number = Date.now,
  ) {
    // Its own key, derived from SECRETS_KEY: a media URL's signature never opens an avatar, nor the reverse.
    this.key = Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), 'switchboard avatar url v1', 32));
  }

  sign(pageId: string, psid: string, expiresAt = Math.floor(this.now() / 1000) + this.ttlSeconds): string {
    return `/avatars/${pageId}/${psid}?exp=${expiresAt}&sig=${this.mac(pageId, psid, expiresAt)}`;
  }

  verify(pageId: string, psid: string, exp: string, sig: string): 'ok' | 'expired' | 'bad_signature' {
    if (!safeEqual(sig, this.mac(pageId, psid, Number(exp)))) return 'bad_signature';
    return Number(exp) * 1000 < this.now() ? 'expired' : 'ok';
  }

  private mac(pageId: string, psid: string, exp: number): string {
    return createHmac('sha256', this.key).update(`${pageId}\n${psid}\n${exp}`).digest('base64url');
  }
}

// Up to two letters: the first of the first word and of the last; code points, so an emoji or a CJK name
// gives one whole character, never half a surrogate pair.
export function initialsOf(name: string): string {
  const words = name.trim().split(/\s+/).filter(Boolean);
  if (!words.length) return '?';
  const first = (w: string) => [...w][0].toLocaleUpperCase();
  return words.length === 1 ? first(words[0]) : first(words[0]) + first(words[words.length - 1]);
}

const escapeXml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);

// Deterministic: the same person gets the same picture from every Page and every process.
export function avatarSvg(name: string, seed: string): string {
  const hue = createHash('sha256').update(seed).digest().readUInt16BE(0) % 360;
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="256" height="256" viewBox="0 0 256 256">` +
    `<rect width="256" height="256" fill="hsl(${hue},55%,45%)"/>` +
    `<text x="128" y="128" dy=".35em" text-anchor="middle" font-family="system-ui,sans-serif" font-size="104" fill="#fff">` +
    `${escapeXml(initialsOf(name))}</text></svg>`
  );
}

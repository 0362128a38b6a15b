// Graph's media template only takes Facebook URLs (error 100, subcode 2018188); Switchboard's equivalent is a
// URL of its own media: the signed `/media/{id}/{variant}?exp=…&sig=…` links it hands out in webhooks, echoes
// and the person's API. The shape is src/media's MediaUrlSigner; the signature itself is checked by the platform.

/** Graph's subcode for a media template URL that is not one of the platform's own. */
export const MEDIA_TEMPLATE_URL_SUBCODE = 2018188;

/** The parts of a Switchboard media URL. */
export interface PlatformMediaUrl {
  mediaId: string;
  variant: string;
  exp: string;
  sig: string;
}

const MEDIA_PATH = /^\/media\/(\d{1,20})\/([a-z0-9][a-z0-9._-]{0,63})$/;

/**
 * Reads a Switchboard media URL (`http(s)://host/media/{id}/{variant}?exp=&sig=`), or null when `url` is not
 * one. Only the shape is checked: whether the signature is genuine is for the platform that signed it.
 */
export function parsePlatformMediaUrl(url: unknown): PlatformMediaUrl | null {
  if (typeof url !== 'string') return null;
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return null;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return null;
  const m = MEDIA_PATH.exec(u.pathname);
  const exp = u.searchParams.get('exp');
  const sig = u.searchParams.get('sig');
  if (!m || m[2].includes('..') || !exp || !/^\d{1,12}$/.test(exp) || !sig || !/^[A-Za-z0-9_-]{1,128}$/.test(sig)) {
    return null;
  }
  return { mediaId: m[1], variant: m[2], exp, sig };
}

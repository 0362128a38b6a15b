// Where a message's media comes from. Pure, no DOM.
import type { PersonMediaPayload } from '../api';
import { formatBytes } from './drafts';

// Thumbnail first, the full image on tap. The person's uploads (and a bot's stored media) carry both signed
// URLs; a bot's plain URL is both. One stored by attachment_id alone has no URL the browser can fetch.
export function mediaSources(payload: PersonMediaPayload & { attachment_id?: string }): {
  thumb?: string;
  full?: string;
} {
  const full = payload.url;
  return { thumb: payload.thumbnail_url ?? full, full };
}

// A file's link text: the name in the URL when it has one; our own /media/:id/original has none, so its size.
export function fileLabel(payload: PersonMediaPayload): string {
  const url = payload.url ?? '';
  let name = '';
  try {
    const path = new URL(url, 'http://x').pathname;
    if (!/^\/media\/[^/]+\/[^/]+$/.test(path)) name = decodeURIComponent(path.split('/').pop() ?? '');
  } catch {
    // not a URL: no name
  }
  const size = payload.size !== undefined ? formatBytes(payload.size) : '';
  if (name) return size ? `${name} (${size})` : name;
  return size ? `File (${size})` : 'File';
}

// The thumbnail's box, known before it loads (the person's uploads carry the size): fits max×max, keeps the ratio.
export function thumbBox(
  width: number | undefined,
  height: number | undefined,
  max = 220,
): { width: number; height: number } | undefined {
  if (!width || !height || width <= 0 || height <= 0) return undefined;
  const scale = Math.min(1, max / Math.max(width, height));
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

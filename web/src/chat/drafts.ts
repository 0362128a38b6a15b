// Files the person picked for the next message: each is uploaded at once (POST /threads/:id/attachments), shown
// as a preview with its progress, and sent as attachments: [{media_id}] with the message. Pure, no DOM.
import type { MediaKind, UploadedAttachment } from '../api';

// SendMessageDto: at most 10 attachments per message.
export const MAX_ATTACHMENTS = 10;

export interface FileLike {
  name: string;
  size: number;
  type: string;
}

export interface Draft {
  key: string;
  file: FileLike;
  kind: MediaKind;
  // An object URL of the chosen image, for the preview before it is sent.
  preview?: string;
  state: 'uploading' | 'ready' | 'failed';
  loaded: number;
  total: number;
  uploaded?: UploadedAttachment;
  error?: string;
}

// The server decides from the bytes; this only picks how the preview looks.
export function kindOf(mime: string): MediaKind {
  if (mime.startsWith('image/')) return 'image';
  if (mime.startsWith('video/')) return 'video';
  if (mime.startsWith('audio/')) return 'audio';
  return 'file';
}

export function newDraft(key: string, file: FileLike, preview?: string): Draft {
  return { key, file, kind: kindOf(file.type), preview, state: 'uploading', loaded: 0, total: file.size };
}

// Adds what fits under the limit; says how many were left out.
export function addDrafts(existing: Draft[], added: Draft[]): { drafts: Draft[]; refused: number } {
  const room = Math.max(0, MAX_ATTACHMENTS - existing.length);
  return { drafts: [...existing, ...added.slice(0, room)], refused: Math.max(0, added.length - room) };
}

export function patchDraft(drafts: Draft[], key: string, patch: Partial<Draft>): Draft[] {
  return drafts.map((d) => (d.key === key ? { ...d, ...patch } : d));
}

export function progressOf(d: Draft): number {
  if (d.state === 'ready') return 1;
  return d.total > 0 ? Math.min(1, d.loaded / d.total) : 0;
}

// Send is possible with text or uploaded files, once nothing is still uploading. A failed file must be retried
// or removed first: sending without it silently would surprise.
export function composerState(text: string, drafts: Draft[]): { canSend: boolean; hint: string | null } {
  if (drafts.some((d) => d.state === 'uploading')) return { canSend: false, hint: 'Uploading…' };
  if (drafts.some((d) => d.state === 'failed'))
    return { canSend: false, hint: 'Retry or remove the file that failed.' };
  return { canSend: Boolean(text.trim()) || drafts.some((d) => d.state === 'ready'), hint: null };
}

export function readyAttachments(drafts: Draft[]): UploadedAttachment[] {
  return drafts.filter((d) => d.state === 'ready' && d.uploaded).map((d) => d.uploaded!);
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${Math.round(n / 1024)} KB`;
  const mb = n / (1024 * 1024);
  return `${mb < 10 ? mb.toFixed(1) : Math.round(mb)} MB`;
}

// The API's refusals (src/media/media.errors.ts) in words for the person; anything else keeps the server's text.
export function uploadErrorText(status: number | undefined, body: any): string {
  if (status === undefined) return 'Upload failed: no connection. Try again.';
  const code = body?.code ?? body?.error?.code;
  const message: string = body?.message ?? body?.error?.message ?? '';
  if (status === 413 || code === 'MEDIA.TOO_LARGE') {
    const max = /larger than (\d+) bytes/.exec(message)?.[1];
    return max ? `Too large to send (the limit is ${formatBytes(Number(max))}).` : 'Too large to send.';
  }
  if (code === 'MEDIA.TYPE_MISMATCH') return 'The file’s contents do not match its type.';
  if (code === 'MEDIA.CORRUPT_IMAGE') return 'This image cannot be read.';
  if (status >= 500) return 'Upload failed on the server. Try again.';
  return message || `Upload failed (HTTP ${status}).`;
}

// The conversation's pure rules, kept apart from Preact so jest can test them (thread-logic.spec.ts).
import type { MessageView, PersonAttachment, QuickReply, TextQuickReply, UploadedAttachment } from '../api';

// Messages keyed by mid, in seq order: the same message from history, the socket and a send's reply is kept once.
export function upsertMessage(list: MessageView[], m: MessageView): MessageView[] {
  if (list.some((x) => x.mid === m.mid)) return list;
  const out = [...list, m];
  out.sort((a, b) => a.seq - b.seq);
  return out;
}

export function mergeMessages(list: MessageView[], incoming: MessageView[]): MessageView[] {
  let out = list;
  for (const m of incoming) out = upsertMessage(out, m);
  return out;
}

// The feed's dedupe: an event at or below the highest cursor processed was seen already (a reconnect replays
// from after=<cursor>, and the long-poll and a probing socket may briefly overlap). Typing has no cursor.
export function acceptCursor(
  cursor: number | null,
  e: { cursor?: number },
): { accept: boolean; cursor: number | null } {
  if (e.cursor === undefined) return { accept: true, cursor };
  if (cursor !== null && e.cursor <= cursor) return { accept: false, cursor };
  return { accept: true, cursor: e.cursor };
}

export type OwnStatus = 'Sent' | 'Delivered' | 'Seen';

// Sent: the server has the message. Delivered: the Page's side has it (the Page sent something after it).
// Seen: the Page's mark_seen covers it (read events by: "page" carry the thread's seq then).
export function statusOf(m: MessageView, msgs: MessageView[], seenSeq: number): OwnStatus {
  if (seenSeq >= m.seq) return 'Seen';
  if (msgs.some((x) => x.sender === 'page' && x.seq > m.seq)) return 'Delivered';
  return 'Sent';
}

export function lastOwnMessage(msgs: MessageView[]): MessageView | undefined {
  for (let i = msgs.length - 1; i >= 0; i--) if (msgs[i].sender === 'person') return msgs[i];
  return undefined;
}

// Quick replies belong to the latest message only, and only while nothing of the person's is on its way:
// the next message (either side) removes them. Only text chips are drawn (location/email/phone need a device).
export function quickReplyChips(msgs: MessageView[], pendingCount: number): TextQuickReply[] {
  const last = msgs[msgs.length - 1];
  if (pendingCount > 0 || last?.sender !== 'page') return [];
  return (last.quick_replies ?? []).filter((q: QuickReply): q is TextQuickReply => q.content_type === 'text');
}

// The thread list's one-line preview.
export function summary(m?: MessageView | null): string {
  if (!m) return 'New conversation';
  const who = m.sender === 'person' ? 'You: ' : '';
  if (m.kind === 'postback') return who + (m.postback?.title ?? '');
  if (m.text) return who + m.text;
  if (m.attachment?.type === 'template') return who + 'Sent a message';
  const first = m.attachment ?? m.attachments?.[0];
  if (first) {
    const n = m.attachments?.length ?? 1;
    if (first.type === 'image') return who + (n > 1 ? `Sent ${n} photos` : 'Sent a photo');
    return who + (n > 1 ? `Sent ${n} attachments` : 'Sent an attachment');
  }
  return '';
}

// What the person sends, kept by client_message_id until the server has it.
export interface Pending {
  client_message_id: string;
  thread_id: string;
  text?: string;
  quick_reply?: { payload: string };
  postback?: { title: string; payload: string };
  // Already uploaded: a retry sends the same media ids.
  attachments?: UploadedAttachment[];
  failed?: boolean;
  timestamp: number;
}

export function sendRequest(p: Pending): { path: string; body: Record<string, unknown> } {
  if (p.postback)
    return {
      path: `/threads/${p.thread_id}/postbacks`,
      body: { ...p.postback, client_message_id: p.client_message_id },
    };
  const body: Record<string, unknown> = { client_message_id: p.client_message_id };
  // The API refuses a blank text; with attachments the text is optional.
  if (p.text !== undefined && p.text.trim()) body.text = p.text;
  if (p.quick_reply) body.quick_reply = p.quick_reply;
  if (p.attachments?.length) body.attachments = p.attachments.map((a) => ({ media_id: a.media_id }));
  return { path: `/threads/${p.thread_id}/messages`, body };
}

// The person's message as the server will list it, drawn at once from the send's answer.
export function sentView(p: Pending, sent: { mid: string; seq: number; timestamp: number }): MessageView {
  const m: MessageView = {
    mid: sent.mid,
    seq: sent.seq,
    timestamp: sent.timestamp,
    sender: 'person',
    kind: p.postback ? 'postback' : 'message',
    client_message_id: p.client_message_id,
  };
  if (p.text !== undefined && p.text.trim()) m.text = p.text;
  if (p.quick_reply) m.quick_reply = p.quick_reply;
  if (p.postback) m.postback = p.postback;
  if (p.attachments?.length)
    m.attachments = p.attachments.map(({ type, payload }): PersonAttachment => ({ type, payload }));
  return m;
}

// A 4xx will not get better by retrying (except 429); network errors (no status) and 5xx might.
export function retryable(status: number | undefined): boolean {
  return status === undefined || status >= 500 || status === 429;
}

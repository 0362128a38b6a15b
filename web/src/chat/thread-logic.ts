// The conversation's pure rules, kept apart from Preact so jest can test them (thread-logic.spec.ts).
import type { MessageView, PersonAttachment, QuickReply, TextQuickReply, ThreadSummary, UploadedAttachment } from '../api';

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

// Sent: the server has the message. Delivered: the Page's bot has received it (the server's delivered_to_page_seq,
// raised by delivery events by: "page"). Seen: the Page's mark_seen covers it (read events by: "page").
// Seen implies Delivered, whatever the order the two marks arrived in.
export function statusOf(m: MessageView, seenSeq: number, deliveredSeq: number): OwnStatus {
  if (seenSeq >= m.seq) return 'Seen';
  if (deliveredSeq >= m.seq) return 'Delivered';
  return 'Sent';
}

// The Page's marks only ever rise: a late or replayed event, or an older thread list, never lowers them.
export interface PageMarks {
  seenByPageSeq: number;
  deliveredToPageSeq: number;
}
export function raiseMarks<T extends PageMarks>(s: T, seen: number | undefined, delivered: number | undefined): T {
  const seenByPageSeq = Math.max(s.seenByPageSeq, seen ?? 0);
  const deliveredToPageSeq = Math.max(s.deliveredToPageSeq, delivered ?? 0);
  if (seenByPageSeq === s.seenByPageSeq && deliveredToPageSeq === s.deliveredToPageSeq) return s;
  return { ...s, seenByPageSeq, deliveredToPageSeq };
}

// What a person event does to the Page's marks: read by page is Seen, delivery by page is Delivered; the
// person's own devices' read and delivery events say nothing about the Page.
export function marksFromEvent(e: { type: string; by?: string; seq: number }): { seen?: number; delivered?: number } {
  if (e.by !== 'page') return {};
  if (e.type === 'read') return { seen: e.seq };
  if (e.type === 'delivery') return { delivered: e.seq };
  return {};
}

// Where loading a conversation's newest `max` messages starts (after_seq): seqs are gap-free, so they are those
// after last_seq - max.
export function historyStart(lastSeq: number, max: number): number {
  return Math.max(0, lastSeq - max);
}

// The list's count once one of the person's devices read up to `watermark`: none when that covers the thread's last
// message (or nothing was counted); otherwise some may still be unread, and only the server knows how many (null).
export function unreadAfterOwnRead(t: Pick<ThreadSummary, 'unread_count' | 'last_message'>, watermark: number): 0 | null {
  if (t.unread_count === 0 || !t.last_message || t.last_message.timestamp <= watermark) return 0;
  return null;
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
  // The Page's message sent as a persona (a human agent, say) is theirs: "Ada: …".
  const who = m.sender === 'person' ? 'You: ' : m.persona ? `${m.persona.name}: ` : '';
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
  // The message of the thread this one answers (the person picked Reply on it).
  reply_to?: { mid: string };
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
  if (p.reply_to) body.reply_to = p.reply_to;
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
  if (p.reply_to) m.reply_to = p.reply_to;
  if (p.attachments?.length)
    m.attachments = p.attachments.map(({ type, payload }): PersonAttachment => ({ type, payload }));
  return m;
}

// A 4xx will not get better by retrying (except 429); network errors (no status) and 5xx might.
export function retryable(status: number | undefined): boolean {
  return status === undefined || status >= 500 || status === 429;
}

// A message in a few words, for a reply's quote: its text (shortened), or what it carries.
export function briefContent(m: MessageView, max = 80): string {
  const text = m.kind === 'postback' ? m.postback?.title : m.text;
  if (text) return text.length > max ? `${text.slice(0, max - 1).trimEnd()}…` : text;
  if (m.attachment?.type === 'template') return 'a message';
  const first = m.attachment ?? m.attachments?.[0];
  if (first?.type === 'image') return 'a photo';
  if (first) return 'an attachment';
  return 'a message';
}

// What a Page's reply (Send API reply_to) quotes. The quoted message may not be loaded here (history not
// fetched that far, or not arrived yet): then it is named neutrally rather than guessed.
export interface ReplyQuote {
  found: boolean;
  // Who wrote the quoted message, as the reader says it: "you", the persona it was sent as, or the Page's name.
  who?: string;
  // "Replying to" (the Page's reply) or "You replied to" (the person's own).
  lead?: string;
  text: string;
  label: string;
}
// `by`: who wrote the reply. The person's own replies read "You replied to …", as Messenger says them.
export function replyQuote(quoted: MessageView | undefined, pageName: string, by: 'person' | 'page' = 'page'): ReplyQuote {
  const lead = by === 'person' ? 'You replied to' : 'Replying to';
  if (!quoted) return { found: false, text: `${lead} an earlier message`, label: `${lead} an earlier message` };
  const author = quoted.persona?.name ?? pageName;
  const who = by === 'person' ? (quoted.sender === 'person' ? 'yourself' : author) : quoted.sender === 'person' ? 'you' : author;
  const text = briefContent(quoted);
  return { found: true, who, lead, text, label: `${lead} ${who}: ${text}` };
}

// The thread list after a fresh first page: that page on top, then what was loaded below it before (older pages),
// each thread once. A thread that moved up is taken from the fresh page; one that fell off it stays below.
export function withFirstPage(firstPage: ThreadSummary[], loaded: ThreadSummary[]): ThreadSummary[] {
  const fresh = new Set(firstPage.map((t) => t.id));
  return [...firstPage, ...loaded.filter((t) => !fresh.has(t.id))];
}

// An older page appended below what is shown, each thread once.
export function withOlderPage(loaded: ThreadSummary[], older: ThreadSummary[]): ThreadSummary[] {
  const shown = new Set(loaded.map((t) => t.id));
  return [...loaded, ...older.filter((t) => !shown.has(t.id))];
}

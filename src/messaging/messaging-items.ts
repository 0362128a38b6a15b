// Builds Messenger's `messaging` items (the webhook events) and the person's view of a message. Pure: no Nest.
import { randomInt } from 'node:crypto';
import { takeRandom } from '../common/ids/random-pool';
import type { MessageView } from './person-events';

export interface MessageRow {
  mid: string;
  seq: string | number;
  sender: 'person' | 'page';
  app_id: string | null;
  kind: 'message' | 'postback';
  timestamp: string | number;
  content: Record<string, unknown>;
  client_message_id: string | null;
}

// Turns stored attachments ({type, payload:{media_id,…}}) into what a reader gets (signed URLs). Supplied by
// src/media through MessagingService; without one, stored attachments are left out.
export type AttachmentPresenter = (stored: unknown[]) => unknown[];

const MID_BYTES = 24;
export const newMid = () => `m_${takeRandom(MID_BYTES).toString('base64url')}`;

// 16 digits like Messenger's. The first digit is 1–8 so the id stays below 2^53: a bot that parses it
// as a number still has it exactly (we always send it as a string).
export function newPsid(): string {
  let id = String(randomInt(1, 9));
  while (id.length < 16) id += String(randomInt(0, 10));
  return id;
}

// What the person's client shows. `metadata` is for bots only and never reaches the person.
export function toMessageView(r: MessageRow, present?: AttachmentPresenter): MessageView {
  const c = r.content;
  const view: MessageView = {
    mid: r.mid,
    seq: Number(r.seq),
    sender: r.sender,
    timestamp: Number(r.timestamp),
    kind: r.kind,
  };
  if (typeof c.text === 'string') view.text = c.text;
  if (c.quick_reply) view.quick_reply = c.quick_reply as { payload: string };
  if (c.quick_replies) view.quick_replies = c.quick_replies as unknown[];
  if (c.attachment) view.attachment = presentOne(c.attachment, present);
  if (Array.isArray(c.attachments) && present) view.attachments = present(c.attachments);
  if (c.postback) view.postback = c.postback as { title: string; payload: string };
  if (r.client_message_id) view.client_message_id = r.client_message_id;
  // A reply quotes an earlier message of the thread; notification_type lets the client decide to notify.
  if (isReplyTo(c.reply_to)) view.reply_to = { mid: c.reply_to.mid };
  if (typeof c.notification_type === 'string') view.notification_type = c.notification_type as MessageView['notification_type'];
  return view;
}

const isReplyTo = (v: unknown): v is { mid: string } => typeof (v as { mid?: unknown } | undefined)?.mid === 'string';

// A media template's elements that name stored media (media_id) get the reader's freshly signed URL, as a
// plain attachment does; the stored URL (signed when the bot sent it) would expire.
function presentOne(attachment: unknown, present?: AttachmentPresenter): unknown {
  if (!present) return attachment;
  const att = attachment as { type?: unknown; payload?: { template_type?: unknown; elements?: unknown } };
  if (att?.type !== 'template' || att.payload?.template_type !== 'media' || !Array.isArray(att.payload.elements)) {
    return present([attachment])[0];
  }
  const elements = att.payload.elements.map((el: Record<string, unknown>) => {
    if (typeof el?.media_id !== 'string') return el;
    const { media_id, ...rest } = el;
    const shown = present([{ type: el.media_type, payload: { media_id } }])[0] as { payload?: { url?: unknown } } | undefined;
    return typeof shown?.payload?.url === 'string' ? { ...rest, url: shown.payload.url } : rest;
  });
  return { ...att, payload: { ...att.payload, elements } };
}

interface Parties {
  psid: string;
  pageId: string;
}

// Graph sends app ids as numbers in echoes; ours are 15 digits, which a JS number holds exactly.
const appIdValue = (appId: string) => (Number.isSafeInteger(Number(appId)) ? Number(appId) : appId);

export function personMessageItem(p: Parties, r: MessageRow, present?: AttachmentPresenter): Record<string, unknown> {
  const base = { sender: { id: p.psid }, recipient: { id: p.pageId }, timestamp: Number(r.timestamp) };
  if (r.kind === 'postback') {
    const pb = r.content.postback as { title: string; payload: string };
    return { ...base, postback: { mid: r.mid, title: pb.title, payload: pb.payload } };
  }
  const message: Record<string, unknown> = { mid: r.mid };
  if (typeof r.content.text === 'string') message.text = r.content.text;
  if (r.content.quick_reply) message.quick_reply = r.content.quick_reply;
  if (Array.isArray(r.content.attachments) && present) message.attachments = present(r.content.attachments);
  return { ...base, message };
}

// message_echoes: the Page's own send, sender = page, recipient = PSID.
export function echoItem(p: Parties, r: MessageRow, present?: AttachmentPresenter): Record<string, unknown> {
  // A send with no app behind it has no app_id to show (Number('') would make it 0).
  const message: Record<string, unknown> = { is_echo: true, ...(r.app_id === null ? {} : { app_id: appIdValue(r.app_id) }) };
  if (typeof r.content.metadata === 'string') message.metadata = r.content.metadata;
  message.mid = r.mid;
  if (typeof r.content.text === 'string') message.text = r.content.text;
  if (r.content.attachment) message.attachments = [presentOne(r.content.attachment, present)];
  if (r.content.quick_replies) message.quick_replies = r.content.quick_replies;
  if (isReplyTo(r.content.reply_to)) message.reply_to = { mid: r.content.reply_to.mid };
  return { sender: { id: p.pageId }, recipient: { id: p.psid }, timestamp: Number(r.timestamp), message };
}

export function readItem(p: Parties, watermark: number, timestamp: number): Record<string, unknown> {
  return { sender: { id: p.psid }, recipient: { id: p.pageId }, timestamp, read: { watermark } };
}

export function deliveryItem(p: Parties, watermark: number, timestamp: number, mids?: string[]): Record<string, unknown> {
  return {
    sender: { id: p.psid },
    recipient: { id: p.pageId },
    timestamp,
    delivery: { ...(mids?.length ? { mids } : {}), watermark },
  };
}

// Builds Messenger's `messaging` items (the webhook events) and the person's view of a message. Pure: no Nest.
import { randomInt } from 'node:crypto';
import {
  feedbackExpiresAt,
  reactionName,
  type CustomerFeedbackTemplatePayload,
  type FeedbackScreensItem,
} from '../../libs/templates';
import { takeRandom } from '../common/ids/random-pool';
import type { FeedbackView, MessageView } from './person-events';

export interface MessageRow {
  mid: string;
  seq: string | number;
  sender: 'person' | 'page';
  app_id: string | null;
  kind: 'message' | 'postback';
  timestamp: string | number;
  content: Record<string, unknown>;
  client_message_id: string | null;
  // Absent on a row being written (none yet).
  reactions?: { person?: string; page?: string };
  num_edit?: number;
  // A coupon's: when the person revealed its code (ms); null or absent until then.
  coupon_revealed_at?: string | number | null;
  // A customer feedback request's: the person's answer; null or absent until then.
  feedback?: StoredFeedback | null;
  // A bot's message: the person's thumbs up (good) or down (bad); null or absent until then.
  response_feedback?: ResponseFeedback | null;
}

export type ResponseFeedback = 'good' | 'bad';

// What messages.feedback holds: when the person answered, and the answer as the webhook carries it.
export interface StoredFeedback extends FeedbackScreensItem {
  submitted_at: number;
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

// The coupon template of a message's content, if it is one.
export function couponOf(content: Record<string, unknown>): { coupon_code?: string; payload?: string } | undefined {
  const att = content.attachment as { type?: unknown; payload?: { template_type?: unknown } } | undefined;
  return att?.type === 'template' && att.payload?.template_type === 'coupon' ? (att.payload as { coupon_code?: string; payload?: string }) : undefined;
}

// The customer feedback template of a message's content, if it is one.
export function feedbackRequestOf(content: Record<string, unknown>): CustomerFeedbackTemplatePayload | undefined {
  const att = content.attachment as { type?: unknown; payload?: { template_type?: unknown } } | undefined;
  return att?.type === 'template' && att.payload?.template_type === 'customer_feedback'
    ? (att.payload as CustomerFeedbackTemplatePayload)
    : undefined;
}

// A feedback request's state as both sides read it: open until expires_at, then the answer once given.
export function feedbackView(template: CustomerFeedbackTemplatePayload, sentAt: number, stored: StoredFeedback | null | undefined): FeedbackView {
  const view: FeedbackView = { expires_at: feedbackExpiresAt(template, sentAt) };
  // jsonb keeps keys in its own order: written back in Meta's.
  if (stored) {
    view.submitted_at = Number(stored.submitted_at);
    view.feedback_screens = stored.feedback_screens.map((s) => ({ screen_id: s.screen_id, questions: s.questions }));
  }
  return view;
}

// What the person's client shows (`forPage`: the Page's own people, in its inbox). `metadata` is for bots only and
// never reaches the person; nor does a coupon's code before they tap "Reveal code", as on Messenger.
// `thumbsFrom`: the Page's apps subscribed to response_feedback; their messages carry `thumbs: true` (the person may
// rate them) without saying which app sent them.
export function toMessageView(
  r: MessageRow,
  present?: AttachmentPresenter,
  opts: { forPage?: boolean; thumbsFrom?: ReadonlySet<string> } = {},
): MessageView {
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
  const coupon = couponOf(c);
  if (coupon?.coupon_code !== undefined) {
    const revealedAt = r.coupon_revealed_at == null ? null : Number(r.coupon_revealed_at);
    view.coupon = revealedAt === null ? { revealed: false } : { revealed: true, revealed_at: revealedAt };
    if (revealedAt === null && !opts.forPage) view.attachment = withoutCode(view.attachment);
  }
  const feedbackRequest = feedbackRequestOf(c);
  if (feedbackRequest) view.feedback = feedbackView(feedbackRequest, Number(r.timestamp), r.feedback);
  if (Array.isArray(c.attachments) && present) view.attachments = present(c.attachments);
  if (c.postback) view.postback = c.postback as { title: string; payload: string };
  if (r.client_message_id) view.client_message_id = r.client_message_id;
  // A reply quotes an earlier message of the thread; notification_type lets the client decide to notify.
  if (isReplyTo(c.reply_to)) view.reply_to = { mid: c.reply_to.mid };
  if (typeof c.notification_type === 'string') view.notification_type = c.notification_type as MessageView['notification_type'];
  if (isPersona(c.persona)) view.persona = presentPersona(c.persona, present);
  if (r.reactions && (r.reactions.person || r.reactions.page)) view.reactions = { ...r.reactions };
  if (r.num_edit) view.num_edit = r.num_edit;
  if (r.sender === 'page' && r.app_id && opts.thumbsFrom?.has(r.app_id)) view.thumbs = true;
  if (r.response_feedback) view.response_feedback = r.response_feedback;
  return view;
}

function withoutCode(attachment: unknown): unknown {
  const att = attachment as { payload: Record<string, unknown> };
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  const { coupon_code, ...payload } = att.payload;
  return { ...att, payload };
}

const isPersona = (v: unknown): v is { id: string; name: string; media_id: string } =>
  typeof (v as { id?: unknown } | undefined)?.id === 'string' && typeof (v as { name?: unknown }).name === 'string';

// The Page sent (or types) as one of its personas: its name and picture (the picture a signed URL, minted per reader).
export function presentPersona(p: { id: string; name: string; media_id: string }, present?: AttachmentPresenter): MessageView['persona'] {
  const [shown] = present ? (present([{ type: 'image', payload: { media_id: p.media_id } }]) as { payload?: { url?: string; thumbnail_url?: string } }[]) : [];
  const picture = shown?.payload?.thumbnail_url ?? shown?.payload?.url;
  return { id: p.id, name: p.name, ...(picture ? { profile_picture_url: picture } : {}) };
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
    // A new thread opened from a ref link: its Get Started postback carries the referral, as on Messenger.
    const referral = typeof r.content.ref === 'string' ? { referral: shortlinkReferral(r.content.ref) } : {};
    return { ...base, postback: { mid: r.mid, title: pb.title, payload: pb.payload, ...referral } };
  }
  const message: Record<string, unknown> = { mid: r.mid };
  if (typeof r.content.text === 'string') message.text = r.content.text;
  if (r.content.quick_reply) message.quick_reply = r.content.quick_reply;
  if (Array.isArray(r.content.attachments) && present) message.attachments = present(r.content.attachments);
  // A person's reply to a message of the thread (swiped on it): Messenger's reply_to, is_self_reply when it was theirs.
  if (isReplyTo(r.content.reply_to)) {
    message.reply_to = { mid: r.content.reply_to.mid, ...((r.content.reply_to as { is_self_reply?: unknown }).is_self_reply === true ? { is_self_reply: true } : {}) };
  }
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

const shortlinkReferral = (ref: string) => ({ ref, source: 'SHORTLINK', type: 'OPEN_THREAD' });

// messaging_referrals: a person came back to an existing thread through a ref link (m.me/<page>?ref=…).
export function referralItem(p: Parties, ref: string, timestamp: number): Record<string, unknown> {
  return { sender: { id: p.psid }, recipient: { id: p.pageId }, timestamp, referral: shortlinkReferral(ref) };
}

// messaging_account_linking: the person linked their account at the business's login page (with the code that page
// passed back) or unlinked it.
export function accountLinkingItem(p: Parties, status: 'linked' | 'unlinked', authorizationCode: string | null, timestamp: number): Record<string, unknown> {
  const account_linking = status === 'linked' && authorizationCode !== null ? { status, authorization_code: authorizationCode } : { status };
  return { sender: { id: p.psid }, recipient: { id: p.pageId }, timestamp, account_linking };
}

// message_reactions: the person set, changed (react) or removed (unreact) their reaction to a message.
export function reactionItem(
  p: Parties,
  reaction: { mid: string; emoji: string; action: 'react' | 'unreact' },
  timestamp: number,
): Record<string, unknown> {
  return {
    sender: { id: p.psid },
    recipient: { id: p.pageId },
    timestamp,
    reaction: { reaction: reactionName(reaction.emoji), emoji: reaction.emoji, action: reaction.action, mid: reaction.mid },
  };
}

// messages: the person tapped "Reveal code" on a coupon. Meta's coupon page shows this item: `template` beside sender,
// recipient and timestamp, no mid (the coupon's `payload` says which it was).
export function couponRevealItem(p: Parties, coupon: { coupon_code: string; payload?: string }, timestamp: number): Record<string, unknown> {
  return {
    sender: { id: p.psid },
    recipient: { id: p.pageId },
    timestamp,
    template: { type: 'coupon', ...(coupon.payload === undefined ? {} : { payload: coupon.payload }), coupon_code: coupon.coupon_code },
  };
}

// messaging_feedback: the person answered a customer feedback request. Meta's item carries the answers keyed by the
// question ids the bot chose (no mid).
export function feedbackItem(p: Parties, answer: FeedbackScreensItem, timestamp: number): Record<string, unknown> {
  return { sender: { id: p.psid }, recipient: { id: p.pageId }, timestamp, messaging_feedback: { feedback_screens: answer.feedback_screens } };
}

// response_feedback: the person's thumbs on a bot's message, in Meta's words.
export function responseFeedbackItem(p: Parties, feedback: { mid: string; value: ResponseFeedback }, timestamp: number): Record<string, unknown> {
  return {
    sender: { id: p.psid },
    recipient: { id: p.pageId },
    timestamp,
    response_feedback: { feedback: feedback.value === 'good' ? 'Good response' : 'Bad response', mid: feedback.mid },
  };
}

// message_edits: the person's message as it now reads, and how many times it was edited.
export function editItem(p: Parties, edit: { mid: string; text: string; numEdit: number }, timestamp: number): Record<string, unknown> {
  return { sender: { id: p.psid }, recipient: { id: p.pageId }, timestamp, message_edit: { mid: edit.mid, text: edit.text, num_edit: edit.numEdit } };
}

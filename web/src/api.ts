// The platform's REST API as the browser uses it. Types mirror the server's DTOs (openapi/openapi.json,
// src/*/dto) and the message content types of libs/templates, imported as types only.
import type { Attachment, Button, QuickReply } from '../../libs/templates/types';
export type { Attachment, Button, QuickReply } from '../../libs/templates/types';
export type {
  GenericTemplatePayload,
  ButtonTemplatePayload,
  ReceiptTemplatePayload,
  MediaTemplatePayload,
  CouponTemplatePayload,
  CustomerFeedbackTemplatePayload,
  FeedbackQuestion,
  NotificationMessagesTemplatePayload,
  MediaAttachment,
  TemplateAttachment,
  TextQuickReply,
} from '../../libs/templates/types';

// --- accounts (SignupResponseDto, LoginResponseDto, MeResponseDto) ---
export interface SignupResponse {
  id: string;
  username: string;
  name: string;
  access_token: string;
}
export interface LoginResponse {
  access_token: string;
  expires_in: number;
}
export interface Me {
  id: string;
  username: string;
  name: string;
}

// --- pages and apps (PageDto, AppDto, CreatedAppDto, RotatedSecretDto, PageAppDto, ConnectAppResponseDto) ---
export interface Page {
  id: string;
  name: string;
  category: string;
}
export interface App {
  id: string;
  name: string;
  require_appsecret_proof: boolean;
}
export interface CreatedApp {
  id: string;
  name: string;
  secret: string;
}
export interface RotatedSecret {
  secret: string;
  previous_secret_expires_at: string;
}
// handover_role: the app's role in the handover protocol on this Page (src/handover); null: none.
export type HandoverRole = 'primary' | 'secondary';
export interface PageApp {
  app_id: string;
  name: string;
  subscribed_fields: string[];
  handover_role: HandoverRole | null;
}
export interface PageAdmin {
  user_id: string;
  username: string;
  name: string;
  added_at: string;
}
export interface ConnectAppResponse {
  page_access_token: string;
}
export interface List<T> {
  data: T[];
}
export interface ThreadPage extends List<ThreadSummary> {
  paging: { next_cursor: string | null };
}
export interface Subscription {
  object: string;
  callback_url: string;
  fields: Array<string | { name: string }>;
  active: boolean;
}

// --- media: the person's uploads (UploadedAttachmentDto; MessageViewDto.attachments), URLs signed per reader ---
export type MediaKind = 'image' | 'video' | 'audio' | 'file';
export interface PersonMediaPayload {
  media_id?: string;
  url?: string;
  thumbnail_url?: string;
  width?: number;
  height?: number;
  mime?: string;
  size?: number;
  duration_ms?: number;
}
export interface PersonAttachment {
  type: MediaKind;
  payload: PersonMediaPayload;
}
export interface UploadedAttachment extends PersonAttachment {
  media_id: string;
}

// --- messaging (MessageViewDto, ThreadDto, ThreadSummaryDto, SentMessageDto, MessageListDto, EventsPageDto) ---
export interface MessageView {
  mid: string;
  seq: number;
  sender: 'person' | 'page';
  timestamp: number;
  kind: 'message' | 'postback';
  text?: string;
  quick_reply?: { payload: string };
  quick_replies?: QuickReply[];
  attachment?: Attachment;
  // The person's own uploads (a bot's media comes as `attachment`).
  attachments?: PersonAttachment[];
  postback?: { title: string; payload: string };
  client_message_id?: string;
  // The Page replied to this earlier message of the thread (Send API reply_to).
  reply_to?: { mid: string };
  // The Send API's notification_type; absent means REGULAR.
  notification_type?: 'REGULAR' | 'SILENT_PUSH' | 'NO_PUSH';
  // Each side's reaction (one emoji each), absent when neither reacted.
  reactions?: { person?: string; page?: string };
  // How many times the person edited the text; absent when never.
  num_edit?: number;
  // A coupon with a code: whether the person revealed it. Until then the person's attachment.payload has no
  // coupon_code (POST /threads/:id/messages/:mid/reveal answers the message with it).
  coupon?: { revealed: boolean; revealed_at?: number };
  // A customer feedback request of the Page: answers are taken until expires_at; once given, the answer as the
  // Page's bots got it (POST /threads/:id/messages/:mid/feedback).
  feedback?: FeedbackState;
  // The Page sent this as one of its personas (Send API persona_id): its name and picture (a signed URL of
  // this platform that expires like other media; absent when the picture is not available).
  persona?: Persona;
  // Page Inbox listings only: the app that sent a Page message (the Page Inbox's id for the Page's people).
  app_id?: string;
  // A bot's message the person may rate (its app subscribes to response_feedback), and their thumb once given
  // (PUT /threads/:id/messages/:mid/response-feedback).
  thumbs?: true;
  response_feedback?: 'good' | 'bad';
}
export interface FeedbackState {
  expires_at: number;
  submitted_at?: number;
  feedback_screens?: { screen_id: number; questions: Record<string, { type: string; payload: string; follow_up?: { type: 'free_form'; payload: string } }> }[];
}
export interface FeedbackAnswer {
  question_id: string;
  score: number;
  follow_up?: string;
}
export interface Persona {
  id: string;
  name: string;
  profile_picture_url?: string;
}
export interface Thread {
  id: string;
  page_id: string;
  last_seq: number;
  read_watermark: number;
  delivered_watermark: number;
  seen_by_page_watermark: number;
  seen_by_page_seq: number;
  // The Page's bot has received the person's messages up to this seq (it acknowledged the webhook); 0 if none.
  delivered_to_page_watermark: number;
  delivered_to_page_seq: number;
  // The person blocked messages from the Page (POST /threads/:id/block): nothing of the Page's reaches them, and
  // they write nothing to it until they unblock.
  blocked: boolean;
  blocked_at: number | null;
  created_at: string;
}
export interface ThreadSummary extends Thread {
  page: { id: string; name: string };
  unread_count: number;
  last_message?: MessageView | null;
}
export interface SentMessage {
  mid: string;
  seq: number;
  timestamp: number;
}
// POST /threads/:id/report (ReportDto in src/reports): the person reports the conversation to the operators.
export type ReportReason = 'spam' | 'scam' | 'inappropriate' | 'harassment' | 'other';
export interface ReportInput {
  reason: ReportReason;
  details?: string;
  // Also block messages from the Page, in the same step.
  block?: boolean;
}
export interface ReportView {
  id: string;
  reason: ReportReason;
  details: string | null;
  status: 'open' | 'resolved' | 'dismissed';
  created_at: string;
  updated_at: string;
  // Whether the person now blocks messages from the Page.
  blocked: boolean;
}
// PUT / DELETE /threads/:id/messages/:mid/reaction (ReactionStateDto): the person's reaction now.
export interface ReactionState {
  mid: string;
  reaction: string | null;
}
export interface MessageList {
  data: MessageView[];
  has_more: boolean;
  last_seq: number;
}

// The person's view of a Page's Messenger Profile (PersonProfileView in src/send-api: GET /pages/:id/profile).
export interface PageProfile {
  page_id: string;
  page_name: string;
  greeting: string | null;
  get_started: { title: string; payload: string } | null;
  persistent_menu: { composer_input_disabled: boolean; call_to_actions: Button[] } | null;
  ice_breakers: { question: string; payload: string }[];
}

// src/messaging/person-events.ts
interface ThreadRef {
  thread_id: string;
  page_id: string;
  seq: number;
}
export type StoredEvent =
  | (ThreadRef & { type: 'message'; message: MessageView; cursor: number })
  | (ThreadRef & { type: 'echo'; message: MessageView; cursor: number })
  | (ThreadRef & { type: 'read'; by: 'page' | 'person'; watermark: number; cursor: number })
  // by: 'page': the Page's bot received the person's messages up to seq (Delivered); by: 'person': another of
  // the person's devices acknowledged the Page's messages (no bearing on the status).
  | (ThreadRef & { type: 'delivery'; by: 'page' | 'person'; watermark: number; mids?: string[]; cursor: number })
  // A reaction set (emoji) or removed (null) on message `mid`: by 'page' is the Page's bot, by 'person' another
  // of the person's devices (or this one: the event confirms what the app already drew).
  | (ThreadRef & { type: 'reaction'; by: 'page' | 'person'; mid: string; emoji: string | null; cursor: number })
  // The person edited a message (on any of their devices): the message as it now reads.
  | (ThreadRef & { type: 'edit'; message: MessageView; cursor: number })
  // The person linked (at the business's login page) or unlinked their account; by 'page': the Page's bot unlinked it.
  | (ThreadRef & { type: 'account_linking'; status: 'linked' | 'unlinked'; by: 'person' | 'page'; cursor: number })
  // The person revealed the code of the Page's coupon `mid` (on any of their devices, this one included).
  | (ThreadRef & { type: 'coupon_reveal'; mid: string; coupon_code: string; revealed_at: number; cursor: number })
  // The person answered the Page's customer feedback request `mid` (on any of their devices, this one included).
  | (ThreadRef & { type: 'feedback'; mid: string; feedback: FeedbackState; cursor: number })
  // The person's thumbs on a bot's message (on any of their devices, this one included).
  | (ThreadRef & { type: 'thumbs'; mid: string; feedback: 'good' | 'bad'; cursor: number })
  // The person opted in to, stopped or resumed a topic of the Page's marketing messages (on any of their devices).
  | (ThreadRef & { type: 'optin'; mid: string; title: string; status: 'active' | 'stopped'; opted_in_at: number; expires_at: number; cursor: number })
  // The person blocked or unblocked messages from the Page (on any of their devices).
  | (ThreadRef & { type: 'block'; blocked: boolean; blocked_at: number | null; cursor: number });

// --- marketing messages (src/marketing-messages TopicViewDto): one per opt-in request's title ---
export interface TopicView {
  mid: string;
  title: string;
  payload: string;
  status: 'active' | 'stopped' | 'expired';
  opted_in_at: number;
  expires_at: number;
  frequency?: string;
}
export interface TypingEvent extends ThreadRef {
  type: 'typing';
  cursor?: undefined;
  on: boolean;
  expires_at?: number;
  reason?: string;
  // typing_on with a persona_id: who is typing.
  persona?: Persona;
}
export type PersonEvent = StoredEvent | TypingEvent;
export interface EventsPage {
  events: PersonEvent[];
  cursor: number;
  // `after` was older than the server's event log keeps: reload over REST, then go on after `cursor`.
  reset?: true;
}

// --- webhook gateway: GET /apps/:id/webhook, /apps/:id/deliveries[/:id], retry, replay ---
// Mirrors what src/webhooks/delivery-log.service.ts returns (its routes have no response DTOs in openapi).
export interface WebhookHealth {
  url: string | null;
  mode: 'push' | 'pull';
  active: boolean;
  inactive_reason: string | null;
  state: 'ok' | 'warning' | 'paused';
  warning: string | null;
  failing_since: string | null;
  paused_at: string | null;
  pause_reason: string | null;
  pending_update_count: number;
  pending_pull_count: number;
  in_flight_count: number;
  oldest_pending_age_seconds: number | null;
  last_error_date: string | null;
  last_error_message: string | null;
  last_success_date: string | null;
  success_rate_1h: number | null;
  attempts_1h: number;
  max_in_flight: number;
  max_batch: number;
}
export type DeliveryStatus = 'pending' | 'in_flight' | 'delivered' | 'failed' | 'pull';
export interface Delivery {
  id: string;
  status: DeliveryStatus;
  field: string;
  page_id: string;
  thread_key?: string;
  webhook_id?: string | null;
  attempts: number;
  created_at: string;
  delivered_at: string | null;
  next_attempt_at: string | null;
  last_error: string | null;
}
export interface DeliveryAttempt {
  attempt: number;
  webhook_id: string | null;
  time: string;
  status_code: number | null;
  latency_ms: number | null;
  error: string | null;
  response_body: string | null;
}
export interface DeliveryDetail extends Delivery {
  payload: unknown;
  attempt_log: DeliveryAttempt[];
}
export interface DeliveryPage {
  data: Delivery[];
  paging: { next_cursor: string | null };
}
export interface Replayed {
  replayed: number;
  limit: number;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: any,
  ) {
    super(body?.error?.message ?? body?.message ?? (typeof body === 'string' && body ? body : `HTTP ${status}`));
  }
}

export interface ApiOptions {
  token?: string | null;
  signal?: AbortSignal;
  query?: Record<string, string | number | undefined>;
}

export async function api<T>(method: string, path: string, body?: unknown, opts: ApiOptions = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  let url = path;
  if (opts.query) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(opts.query)) if (v !== undefined && v !== '') q.set(k, String(v));
    const s = q.toString();
    if (s) url += (url.includes('?') ? '&' : '?') + s;
  }
  const res = await fetch(url, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: opts.signal,
  });
  const text = await res.text();
  let parsed: any = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON: keep the text
  }
  if (!res.ok) throw new ApiError(res.status, parsed);
  return parsed as T;
}

// A token kept per app (the chat app and the console sign in separately).
export function tokenStore(key: string) {
  return {
    get: () => localStorage.getItem(key),
    set: (t: string | null) => (t ? localStorage.setItem(key, t) : localStorage.removeItem(key)),
  };
}

export const newClientId = () =>
  `w-${Date.now().toString(36)}-${Array.from(crypto.getRandomValues(new Uint8Array(6)), (b) => b.toString(16).padStart(2, '0')).join('')}`;

export type { Button as TemplateButton };

// GET /threads/{id}/account-linking; POST answers the login page to open.
export interface AccountLinkState {
  linked: boolean;
  linked_at?: number;
}
export interface AccountLinkingStarted {
  authorize_url: string;
  expires_at: number;
}
// POST /account-linking/complete.
export interface AccountLinkingCompleted {
  status: 'linked' | 'cancelled';
  linked: boolean;
}

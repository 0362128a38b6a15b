// What a person's devices receive, over the WebSocket and the long-poll alike. Plain types: no Nest here.
import type { FeedbackScreensItem } from '../../libs/templates';

export interface MessageView {
  mid: string;
  seq: number;
  sender: 'person' | 'page';
  timestamp: number;
  kind: 'message' | 'postback';
  text?: string;
  quick_reply?: { payload: string };
  quick_replies?: unknown[];
  attachment?: unknown;
  // The person's own uploads: [{type, payload:{media_id, url, thumbnail_url?, width?, height?, …}}], URLs signed.
  attachments?: unknown[];
  postback?: { title: string; payload: string };
  client_message_id?: string;
  // The Page's reply to an earlier message of the thread (Send API reply_to).
  reply_to?: { mid: string };
  // The Send API's notification_type: REGULAR (default when absent), SILENT_PUSH or NO_PUSH.
  notification_type?: 'REGULAR' | 'SILENT_PUSH' | 'NO_PUSH';
  // The Page sent this as one of its personas (Send API persona_id): show this name and picture.
  persona?: { id: string; name: string; profile_picture_url?: string };
  // Each side's reaction (an emoji), when there is one.
  reactions?: { person?: string; page?: string };
  // How many times the person edited the text; absent when never.
  num_edit?: number;
  // A coupon with a code: whether the person revealed it. Until then their view of the attachment has no
  // `coupon_code` (the Page's own people see it).
  coupon?: { revealed: boolean; revealed_at?: number };
  // A customer feedback request of the Page: until when the person may answer, and their answer once given.
  feedback?: FeedbackView;
  // A bot's message the person may rate (its app subscribes to response_feedback), and their thumb once given.
  thumbs?: true;
  response_feedback?: 'good' | 'bad';
}

export interface FeedbackView {
  expires_at: number;
  submitted_at?: number;
  feedback_screens?: FeedbackScreensItem['feedback_screens'];
}

interface ThreadRef {
  thread_id: string;
  page_id: string;
  // The thread's last seq when the event happened.
  seq: number;
}

export type StoredEvent =
  // A message from the Page (a bot's Send API call).
  | (ThreadRef & { type: 'message'; message: MessageView })
  // The person's own message or postback, sent from any of their devices.
  | (ThreadRef & { type: 'echo'; message: MessageView })
  // `by: page` is the bot's mark_seen ("Seen"); `by: person` is another of the person's devices reading.
  | (ThreadRef & { type: 'read'; by: 'page' | 'person'; watermark: number })
  // `by: person`: another of the person's devices acknowledged. `by: page`: the Page's bot has the person's
  // messages up to `seq` ("Delivered"): a webhook acknowledged, a hosted script run, or an event pulled past.
  | (ThreadRef & { type: 'delivery'; by: 'person' | 'page'; watermark: number; mids?: string[] })
  // A reaction set (`emoji`) or removed (`emoji: null`) on message `mid`: `by: page` is the bot's, `by: person`
  // another of the person's devices.
  | (ThreadRef & { type: 'reaction'; by: 'person' | 'page'; mid: string; emoji: string | null })
  // The person edited one of their messages (from any of their devices): the message as it now reads.
  | (ThreadRef & { type: 'edit'; message: MessageView })
  // The person linked (at the business's login page) or unlinked their account with the Page's business; `by:
  // page` when the Page's bot unlinked it.
  | (ThreadRef & { type: 'account_linking'; status: 'linked' | 'unlinked'; by: 'person' | 'page' })
  // The person revealed the code of the Page's coupon `mid` (from any of their devices).
  | (ThreadRef & { type: 'coupon_reveal'; mid: string; coupon_code: string; revealed_at: number })
  // The person answered the Page's customer feedback request `mid` (from any of their devices).
  | (ThreadRef & { type: 'feedback'; mid: string; feedback: FeedbackView })
  // The person gave a bot's message a thumbs up (good) or down (bad) (from any of their devices). (user_events.type
  // holds 16 characters: `thumbs`, not response_feedback.)
  | (ThreadRef & { type: 'thumbs'; mid: string; feedback: 'good' | 'bad' })
  // The person blocked (or unblocked) messages from the Page, from any of their devices. Never told to the Page.
  | (ThreadRef & { type: 'block'; blocked: boolean; blocked_at: number | null })
  // The person opted in to a topic of the Page's marketing messages (`mid`: the opt-in request they tapped), or
  // stopped or resumed them (from any of their devices). `expires_at`: when the Page can no longer send on it.
  | (ThreadRef & {
      type: 'optin';
      mid: string;
      title: string;
      status: 'active' | 'stopped';
      opted_in_at: number;
      expires_at: number;
    });

// Stored events carry the person's cursor; typing is ephemeral and has none.
export type PersonEvent = (StoredEvent & { cursor: number }) | TypingEvent;

export interface TypingEvent extends ThreadRef {
  type: 'typing';
  cursor?: undefined;
  on: boolean;
  // When a client should stop showing it if no typing_off or message comes.
  expires_at?: number;
  // typing_on with a persona_id: who is typing (Messenger shows the persona's name and picture).
  persona?: MessageView['persona'];
}

export const userChannel = (userId: string) => `user:${userId}`;

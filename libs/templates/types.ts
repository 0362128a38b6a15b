// Types of the normalized values the validators return: what the platform stores and renders.
import type {
  FEEDBACK_SCORE_LABELS,
  FeedbackQuestionType,
  ImageAspectRatio,
  MediaAttachmentType,
  MediaType,
  MessageTag,
  MessagingType,
  MessengerProfileField,
  NotificationType,
  SenderAction,
  WebviewHeightRatio,
} from './constants';

/** A Graph-style validation error. `param` uses Graph's bracket notation: `message[quick_replies][13]`. */
export interface GraphValidationError {
  code: 100;
  message: string;
  param: string;
  /** Graph's `error_subcode`, where Graph has one for the rule (e.g. 2018188 for a media template URL). */
  subcode?: number;
}

/** What every validator returns; it never throws on any input. */
export type ValidationResult<T> = { ok: true; value: T } | { ok: false; error: GraphValidationError };

// --- buttons ---

export interface WebUrlButton {
  type: 'web_url';
  title: string;
  url: string;
  webview_height_ratio?: WebviewHeightRatio;
  messenger_extensions?: boolean;
  fallback_url?: string;
  webview_share_button?: 'hide' | 'show';
}

export interface PostbackButton {
  type: 'postback';
  title: string;
  payload: string;
}

export interface PhoneNumberButton {
  type: 'phone_number';
  title: string;
  /** `+` then country code and number, e.g. `+15105551234`. */
  payload: string;
}

/** Log In: starts account linking at `url` (Messenger draws its own title). */
export interface AccountLinkButton {
  type: 'account_link';
  url: string;
}

/** Log Out: unlinks the person's account. */
export interface AccountUnlinkButton {
  type: 'account_unlink';
}

export type Button = WebUrlButton | PostbackButton | PhoneNumberButton | AccountLinkButton | AccountUnlinkButton;
export type MenuButton = WebUrlButton | PostbackButton;

/** A URL button without its title: what a generic element opens when tapped. */
export interface DefaultAction {
  type: 'web_url';
  url: string;
  webview_height_ratio?: WebviewHeightRatio;
  messenger_extensions?: boolean;
  fallback_url?: string;
  webview_share_button?: 'hide' | 'show';
}

// --- templates ---

export interface GenericElement {
  title: string;
  subtitle?: string;
  image_url?: string;
  default_action?: DefaultAction;
  buttons?: Button[];
}

export interface GenericTemplatePayload {
  template_type: 'generic';
  elements: GenericElement[];
  sharable?: boolean;
  image_aspect_ratio?: ImageAspectRatio;
}

export interface ButtonTemplatePayload {
  template_type: 'button';
  text: string;
  buttons: Button[];
  sharable?: boolean;
}

export interface MediaElement {
  media_type: MediaType;
  /** Exactly one of `url` and `attachment_id`. */
  url?: string;
  attachment_id?: string;
  buttons?: Button[];
}

export interface MediaTemplatePayload {
  template_type: 'media';
  elements: [MediaElement];
  sharable?: boolean;
}

export interface ReceiptElement {
  title: string;
  subtitle?: string;
  quantity?: number;
  price: number;
  currency?: string;
  image_url?: string;
}

export interface ReceiptAddress {
  street_1: string;
  street_2?: string;
  city: string;
  postal_code: string;
  state: string;
  country: string;
}

export interface ReceiptSummary {
  subtotal?: number;
  shipping_cost?: number;
  total_tax?: number;
  total_cost: number;
}

export interface ReceiptAdjustment {
  name: string;
  amount: number;
}

export interface ReceiptTemplatePayload {
  template_type: 'receipt';
  sharable?: boolean;
  recipient_name: string;
  merchant_name?: string;
  order_number: string;
  /** ISO 4217, upper case. */
  currency: string;
  payment_method: string;
  /** UNIX time in seconds, as a string of digits. */
  timestamp?: string;
  order_url?: string;
  elements?: ReceiptElement[];
  address?: ReceiptAddress;
  summary: ReceiptSummary;
  adjustments?: ReceiptAdjustment[];
}

/**
 * A coupon: the person taps "Reveal code" to see `coupon_code`, and the Page's bots get a `messages` webhook
 * `{template: {type: 'coupon', payload?, coupon_code}}`. At least one of `coupon_code` and `coupon_url`.
 */
export interface CouponTemplatePayload {
  template_type: 'coupon';
  title: string;
  subtitle?: string;
  /** No whitespace. */
  coupon_code?: string;
  coupon_url?: string;
  /** The title of the `coupon_url` button ("Shop now" when absent). */
  coupon_url_button_title?: string;
  /** A text shown before the coupon. */
  coupon_pre_message?: string;
  image_url?: string;
  /** Given back in the webhook when the person reveals the code. */
  payload?: string;
}

/** One question of a customer feedback screen: a score on its type's scale, then optionally free-form text. */
export interface FeedbackQuestion {
  /** The key of this question's answer in the `messaging_feedback` webhook. */
  id: string;
  type: FeedbackQuestionType;
  /** Shown above the scale (Messenger writes a default per type when absent). */
  title?: string;
  score_label?: (typeof FEEDBACK_SCORE_LABELS)[number];
  /** One of FEEDBACK_SCORE_OPTIONS[type]; its first when absent. */
  score_option?: string;
  follow_up?: { type: 'free_form'; placeholder?: string };
}

/**
 * Customer feedback: the person taps `button_title`, scores the questions, and the Page's bots get
 * `messaging_feedback {feedback_screens: [{screen_id, questions: {<id>: {type, payload, follow_up?}}}]}` once.
 */
export interface CustomerFeedbackTemplatePayload {
  template_type: 'customer_feedback';
  title: string;
  subtitle?: string;
  button_title: string;
  feedback_screens: { questions: FeedbackQuestion[] }[];
  business_privacy: { url: string };
  /** How long the person may answer: 1 to 7 days, 1 when absent. */
  expires_in_days?: number;
}

/**
 * Marketing messages' opt-in request: the person taps its button (`notification_messages_cta_text`) and the Page's
 * apps get a `messaging_optins` webhook carrying a `notification_messages_token` to send to outside the 24-hour
 * window. Send it within the standard window.
 */
export interface NotificationMessagesTemplatePayload {
  template_type: 'notification_messages';
  /** At most 65 characters; the topic the person opts in to (one token per person, Page and title). */
  title: string;
  image_url?: string;
  /** Given back in the opt-in webhook. */
  payload: string;
  /** Deprecated by Meta (31 January 2023); accepted, and it sets the token's frequency cap and lifetime. */
  notification_messages_frequency?: 'DAILY' | 'WEEKLY' | 'MONTHLY';
  notification_messages_cta_text?: 'ALLOW' | 'GET' | 'GET_UPDATES' | 'OPT_IN' | 'SIGN_UP';
  /** An IANA time zone (default UTC), given back in the webhook. */
  notification_messages_timezone?: string;
  notification_messages_reoptin?: 'ENABLED' | 'DISABLED';
}

export type TemplatePayload =
  | GenericTemplatePayload
  | ButtonTemplatePayload
  | MediaTemplatePayload
  | ReceiptTemplatePayload
  | CouponTemplatePayload
  | CustomerFeedbackTemplatePayload
  | NotificationMessagesTemplatePayload;

// --- attachments and messages ---

/** Exactly one of `url` and `attachment_id`. */
export interface MediaPayload {
  url?: string;
  attachment_id?: string;
  is_reusable?: boolean;
}

export interface MediaAttachment {
  type: MediaAttachmentType;
  payload: MediaPayload;
}

export interface TemplateAttachment {
  type: 'template';
  payload: TemplatePayload;
}

export type Attachment = MediaAttachment | TemplateAttachment;

export interface TextQuickReply {
  content_type: 'text';
  /** May be empty only when `image_url` is set. */
  title: string;
  payload: string;
  image_url?: string;
}

export interface ContactQuickReply {
  content_type: 'user_phone_number' | 'user_email';
}

export type QuickReply = TextQuickReply | ContactQuickReply;

/** The content of one message: exactly one of `text` and `attachment`. */
export interface MessageContent {
  text?: string;
  attachment?: Attachment;
  quick_replies?: QuickReply[];
  metadata?: string;
}

export interface ReplyTo {
  mid: string;
}

/** A Page's reaction to a message of the thread: an emoji to set it, none to remove it. */
export interface ReactionPayload {
  message_id: string;
  reaction?: string;
}

/** A normalized `POST /me/messages` body: exactly one of `message` and `sender_action`. */
export interface SendRequest {
  /** A PSID, or a marketing messages token (then the 24-hour window does not apply, the token's cap does). */
  recipient: { id: string; notification_messages_token?: undefined } | { id?: undefined; notification_messages_token: string };
  /** Absent only on a sender_action request that did not set it. */
  messaging_type?: MessagingType;
  tag?: MessageTag;
  notification_type?: NotificationType;
  message?: MessageContent;
  sender_action?: SenderAction;
  /** With sender_action react (emoji required) or unreact (message_id only). */
  payload?: ReactionPayload;
  /** Taken from the top level or from `message.reply_to`. */
  reply_to?: ReplyTo;
  persona_id?: string;
}

// --- Messenger Profile ---

export interface IceBreaker {
  question: string;
  payload: string;
}

/** Ice breakers are always normalized to the per-locale form. */
export interface LocalizedIceBreakers {
  locale: string;
  call_to_actions: IceBreaker[];
}

export interface Greeting {
  /** `default` or `ll_CC`. */
  locale: string;
  text: string;
}

export interface PersistentMenu {
  locale: string;
  composer_input_disabled?: boolean;
  call_to_actions: MenuButton[];
}

/** A normalized `POST /me/messenger_profile` body: only the properties being set. */
export interface MessengerProfileSettings {
  get_started?: { payload: string };
  greeting?: Greeting[];
  ice_breakers?: LocalizedIceBreakers[];
  persistent_menu?: PersistentMenu[];
  whitelisted_domains?: string[];
}

/** A normalized `DELETE /me/messenger_profile` body. */
export interface MessengerProfileDelete {
  fields: MessengerProfileField[];
}

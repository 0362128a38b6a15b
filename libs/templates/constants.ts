// Limits and enums of the Messenger Platform as Switchboard enforces them
// (shared/reference/messenger-platform.md §2–4). Character counts are Unicode code points.

/**
 * Limits of the Send API and the Messenger Profile API.
 *
 * `text` and `metadata` are exclusive bounds, as Meta words them ("fewer than 2000 characters"):
 * the longest accepted text is `LIMITS.text - 1` characters. Every other limit is inclusive.
 */
export const LIMITS = {
  /** message.text: fewer than 2000 characters (exclusive). */
  text: 2000,
  /** message.metadata: fewer than 1000 characters (exclusive). */
  metadata: 1000,
  quickReplies: 13,
  quickReplyTitle: 20,
  /** Postback, quick reply, get_started, ice breaker and coupon payloads. */
  payload: 1000,
  buttonTitle: 20,
  genericElements: 10,
  elementTitle: 80,
  elementSubtitle: 80,
  elementButtons: 3,
  buttonTemplateText: 640,
  buttonTemplateButtons: 3,
  mediaElements: 1,
  mediaButtons: 3,
  receiptElements: 100,
  couponTitle: 80,
  couponSubtitle: 80,
  /** Meta documents no bound: Switchboard takes the payloads' (1000); the code must have no spaces. */
  couponCode: 1000,
  /** As every button title (Meta documents no bound of its own). */
  couponUrlButtonTitle: 20,
  /** The customer feedback template: Meta's page gives no bounds but one screen of one question; these are ours. */
  feedbackTitle: 80,
  feedbackSubtitle: 80,
  feedbackButtonTitle: 20,
  feedbackScreens: 1,
  feedbackQuestions: 1,
  feedbackQuestionId: 80,
  feedbackQuestionTitle: 80,
  feedbackPlaceholder: 80,
  /** The person's free-form answer to a question's follow_up. */
  feedbackFreeForm: 400,
  /** `expires_in_days`: the person may answer for 1 to 7 days (1 when absent). */
  feedbackExpiresInDaysMax: 7,
  /** The marketing messages opt-in request's title (Meta: 65 characters). */
  notificationMessagesTitle: 65,
  /** A notification_messages_token as a recipient: ours are 43 characters; anything this long is nobody's. */
  notificationMessagesToken: 256,
  greetingText: 160,
  iceBreakers: 4,
  iceBreakerQuestion: 80,
  persistentMenuItems: 20,
  whitelistedDomains: 50,
  /** Nesting deeper than this is refused before validation (guards the stack). */
  depth: 32,
  /**
   * Values nested from bracketed form names (`message[quick_replies][0][title]=…`) in one call: the largest
   * message (a receipt of 100 elements) needs under a thousand. Past it a name stays flat, and is refused.
   */
  bracketedValues: 2000,
} as const;

export const MESSAGING_TYPES = ['RESPONSE', 'UPDATE', 'MESSAGE_TAG'] as const;
export type MessagingType = (typeof MESSAGING_TYPES)[number];

/** Tags Switchboard accepts with `messaging_type: MESSAGE_TAG`. */
export const MESSAGE_TAGS = ['HUMAN_AGENT', 'CUSTOMER_FEEDBACK'] as const;
export type MessageTag = (typeof MESSAGE_TAGS)[number];

/** Tags that Graph answers with error 100 since 27 April 2026; Switchboard refuses them the same way. */
export const DEPRECATED_MESSAGE_TAGS = ['ACCOUNT_UPDATE', 'CONFIRMED_EVENT_UPDATE', 'POST_PURCHASE_UPDATE'] as const;
export type DeprecatedMessageTag = (typeof DEPRECATED_MESSAGE_TAGS)[number];
export const MESSAGE_TAGS_DEPRECATED_SINCE = '2026-04-27';

export const NOTIFICATION_TYPES = ['REGULAR', 'SILENT_PUSH', 'NO_PUSH'] as const;
export type NotificationType = (typeof NOTIFICATION_TYPES)[number];

export const SENDER_ACTIONS = ['typing_on', 'typing_off', 'mark_seen', 'react', 'unreact'] as const;
/** Sender actions that act on one message and so take `payload: {message_id, reaction?}`. */
export const REACTION_ACTIONS = ['react', 'unreact'] as const;
export type SenderAction = (typeof SENDER_ACTIONS)[number];

export const MEDIA_ATTACHMENT_TYPES = ['image', 'audio', 'video', 'file'] as const;
export type MediaAttachmentType = (typeof MEDIA_ATTACHMENT_TYPES)[number];
export const ATTACHMENT_TYPES = [...MEDIA_ATTACHMENT_TYPES, 'template'] as const;
export type AttachmentType = (typeof ATTACHMENT_TYPES)[number];

export const TEMPLATE_TYPES = ['generic', 'button', 'media', 'receipt', 'coupon', 'customer_feedback', 'notification_messages'] as const;
export type TemplateType = (typeof TEMPLATE_TYPES)[number];

/** Buttons allowed in templates. */
export const BUTTON_TYPES = ['web_url', 'postback', 'phone_number', 'account_link', 'account_unlink'] as const;
export type ButtonType = (typeof BUTTON_TYPES)[number];
/** Buttons allowed in the persistent menu. */
export const MENU_BUTTON_TYPES = ['web_url', 'postback'] as const;
export type MenuButtonType = (typeof MENU_BUTTON_TYPES)[number];

export const WEBVIEW_HEIGHT_RATIOS = ['compact', 'tall', 'full'] as const;
export type WebviewHeightRatio = (typeof WEBVIEW_HEIGHT_RATIOS)[number];
export const WEBVIEW_SHARE_BUTTON = ['hide', 'show'] as const;

export const IMAGE_ASPECT_RATIOS = ['horizontal', 'square'] as const;
export type ImageAspectRatio = (typeof IMAGE_ASPECT_RATIOS)[number];

export const MEDIA_TYPES = ['image', 'video'] as const;
export type MediaType = (typeof MEDIA_TYPES)[number];

/** Question types of the customer feedback template, and the scales (`score_option`) each takes, its default first. */
export const FEEDBACK_SCORE_OPTIONS = {
  csat: ['five_stars', 'one_to_five', 'five_emojis'],
  nps: ['zero_to_ten'],
  ces: ['one_to_seven'],
} as const;
export type FeedbackQuestionType = keyof typeof FEEDBACK_SCORE_OPTIONS;
export const FEEDBACK_QUESTION_TYPES = Object.keys(FEEDBACK_SCORE_OPTIONS) as FeedbackQuestionType[];
/** The scores a person may give to each question type (the webhook's `payload`, as a string). */
export const FEEDBACK_SCORE_RANGE: Record<FeedbackQuestionType, { min: number; max: number }> = {
  csat: { min: 1, max: 5 },
  nps: { min: 0, max: 10 },
  ces: { min: 1, max: 7 },
};
/** Which end of the scale is labelled negative: `neg_pos` (default) puts the lowest score first. */
export const FEEDBACK_SCORE_LABELS = ['neg_pos', 'pos_neg'] as const;

export const QUICK_REPLY_CONTENT_TYPES = ['text', 'user_phone_number', 'user_email'] as const;
export type QuickReplyContentType = (typeof QUICK_REPLY_CONTENT_TYPES)[number];

/** Messenger Profile properties Switchboard stores. */
export const MESSENGER_PROFILE_FIELDS = [
  'get_started',
  'greeting',
  'ice_breakers',
  'persistent_menu',
  'whitelisted_domains',
] as const;
export type MessengerProfileField = (typeof MESSENGER_PROFILE_FIELDS)[number];

/** Messenger Profile properties Graph has and Switchboard refuses with a clear message. */
export const UNSUPPORTED_MESSENGER_PROFILE_FIELDS = [
  'account_linking_url',
  'commands',
  'payment_settings',
  'target_audience',
  'home_url',
  'title',
  'description',
  'subject_to_new_eu_privacy_rules',
] as const;

/**
 * Of those, the ones Graph has on every Page today (reference §4): never set here, so `GET ?fields=` answers them as
 * absent and `DELETE` removes nothing, as Graph does for a property not set (Bottender's getAccountLinkingURL).
 */
export const NEVER_SET_MESSENGER_PROFILE_FIELDS = ['account_linking_url', 'commands'] as const;

/** Recipient forms of the Send API that Switchboard does not implement. */
export const UNSUPPORTED_RECIPIENT_FIELDS = [
  'user_ref',
  'comment_id',
  'post_id',
  'phone_number',
] as const;

/**
 * Marketing messages' opt-in request (template_type `notification_messages`): the button's text, one of Meta's
 * values, and what the chat app shows for it (Meta's own wording is not documented; "Get messages" when absent).
 */
export const NOTIFICATION_MESSAGES_CTA_TEXTS = ['ALLOW', 'GET', 'GET_UPDATES', 'OPT_IN', 'SIGN_UP'] as const;
export type NotificationMessagesCtaText = (typeof NOTIFICATION_MESSAGES_CTA_TEXTS)[number];
export const NOTIFICATION_MESSAGES_CTA_LABELS: Record<NotificationMessagesCtaText | 'DEFAULT', string> = {
  DEFAULT: 'Get messages',
  ALLOW: 'Allow messages',
  GET: 'Get messages',
  GET_UPDATES: 'Get updates',
  OPT_IN: 'Opt in to messages',
  SIGN_UP: 'Sign up for messages',
};
/** Deprecated by Meta since 31 January 2023 (no longer required; removed from the webhook in v16); still accepted. */
export const NOTIFICATION_MESSAGES_FREQUENCIES = ['DAILY', 'WEEKLY', 'MONTHLY'] as const;
export type NotificationMessagesFrequency = (typeof NOTIFICATION_MESSAGES_FREQUENCIES)[number];
export const NOTIFICATION_MESSAGES_REOPTIN = ['ENABLED', 'DISABLED'] as const;
/** The person's stop or resume, as the messaging_optins webhook says it. */
export const NOTIFICATION_MESSAGES_STATUSES = ['STOP_NOTIFICATIONS', 'RESUME_NOTIFICATIONS'] as const;


/**
 * Graph request parameters that may sit in a body beside the real ones (form-encoded posts,
 * the JavaScript SDK). Accepted and dropped from the normalized value; the caller reads the token itself.
 */
export const GRAPH_TRANSPORT_PARAMS = [
  'access_token',
  'appsecret_proof',
  'appsecret_time',
  'method',
  'format',
  'pretty',
  'suppress_http_code',
  'sdk',
  'debug',
] as const;

/** The title of the postback a tap on the Get Started button sends (the button carries only a payload). */
export const GET_STARTED_TITLE = 'Get Started';

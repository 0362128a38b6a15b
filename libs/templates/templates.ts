// Template payloads (reference §3): generic, button, media, receipt, coupon, customer feedback, notification_messages.
import { DefaultActionDto, templateButton } from './buttons';
import {
  FEEDBACK_QUESTION_TYPES,
  FEEDBACK_SCORE_LABELS,
  FEEDBACK_SCORE_OPTIONS,
  FeedbackQuestionType,
  IMAGE_ASPECT_RATIOS,
  LIMITS,
  MEDIA_TYPES,
  NOTIFICATION_MESSAGES_CTA_TEXTS,
  NOTIFICATION_MESSAGES_FREQUENCIES,
  NOTIFICATION_MESSAGES_REOPTIN,
  TEMPLATE_TYPES,
} from './constants';
import { MEDIA_TEMPLATE_URL_SUBCODE, parsePlatformMediaUrl } from './media-url';
import {
  boolean,
  Coerce,
  Ctor,
  currency,
  fewerThan,
  Field,
  httpUrl,
  items,
  maxChars,
  Nested,
  NestedArray,
  nonEmpty,
  number,
  oneOf,
  optional,
  required,
  Shape,
  SKIP,
  string,
  toBooleanish,
  toLowerCase,
  toNumberish,
  toStringish,
  toUpperCase,
} from './rules';
import type {
  Button,
  ButtonTemplatePayload,
  CouponTemplatePayload,
  CustomerFeedbackTemplatePayload,
  DefaultAction,
  FeedbackQuestion,
  GenericElement,
  GenericTemplatePayload,
  MediaElement,
  MediaTemplatePayload,
  NotificationMessagesTemplatePayload,
  ReceiptAddress,
  ReceiptAdjustment,
  ReceiptElement,
  ReceiptSummary,
  ReceiptTemplatePayload,
} from './types';

// Media is named by exactly one of a URL or an uploaded attachment's id.
export const exactlyOneSource = (p: { url?: string; attachment_id?: string }) =>
  p.url !== undefined && p.attachment_id !== undefined
    ? { phrase: 'must not be combined with %url%', sub: ['attachment_id'] }
    : p.url === undefined && p.attachment_id === undefined
      ? 'must set one of url or attachment_id'
      : undefined;

const text = (max: number) => [required, string, nonEmpty, maxChars(max)];
const sharable = [optional, boolean];

// --- generic ---

export class GenericElementDto implements GenericElement {
  @Field(...text(LIMITS.elementTitle)) title: string;
  @Field(optional, string, maxChars(LIMITS.elementSubtitle)) subtitle?: string;
  @Field(optional, string, httpUrl) image_url?: string;
  @Nested(() => DefaultActionDto, optional) default_action?: DefaultAction;
  @NestedArray(templateButton, optional, items(0, LIMITS.elementButtons)) buttons?: Button[];

  // Graph: "title and at least one other field (image url, subtitle or buttons) is required".
  @Shape((e: GenericElementDto) =>
    e.subtitle || e.image_url || e.default_action || e.buttons?.length
      ? undefined
      : 'must set at least one of subtitle, image_url, default_action or buttons besides title',
  )
  $content?: never;
}

export class GenericTemplatePayloadDto implements GenericTemplatePayload {
  @Field(required, oneOf(['generic'])) template_type: 'generic';
  @NestedArray(() => GenericElementDto, required, items(1, LIMITS.genericElements)) elements: GenericElement[];
  @Coerce(toBooleanish) @Field(...sharable) sharable?: boolean;
  @Field(optional, oneOf(IMAGE_ASPECT_RATIOS)) image_aspect_ratio?: GenericTemplatePayload['image_aspect_ratio'];
}

// --- button ---

export class ButtonTemplatePayloadDto implements ButtonTemplatePayload {
  @Field(required, oneOf(['button'])) template_type: 'button';
  @Field(...text(LIMITS.buttonTemplateText)) text: string;
  @NestedArray(templateButton, required, items(1, LIMITS.buttonTemplateButtons)) buttons: Button[];
  @Coerce(toBooleanish) @Field(...sharable) sharable?: boolean;
}

// --- media ---

// Graph takes only Facebook URLs here; Switchboard only its own signed media URLs (see media-url.ts).
const platformMediaUrl = (v: unknown) =>
  parsePlatformMediaUrl(v)
    ? undefined
    : {
        phrase:
          'must be a URL of media on this platform (/media/{id}/{variant}?exp=…&sig=…, as webhooks and echoes carry); upload other media with the Attachment Upload API and send its attachment_id',
        subcode: MEDIA_TEMPLATE_URL_SUBCODE,
      };

export class MediaElementDto implements MediaElement {
  @Field(required, oneOf(MEDIA_TYPES)) media_type: MediaElement['media_type'];
  @Shape(exactlyOneSource)
  $source?: never;
  @Field(optional, string, httpUrl, platformMediaUrl) url?: string;
  @Coerce(toStringish) @Field(optional, string, nonEmpty) attachment_id?: string;
  @NestedArray(templateButton, optional, items(0, LIMITS.mediaButtons)) buttons?: Button[];
}

// `elements` is a one-item tuple in the type; the rule enforces it at run time.
export class MediaTemplatePayloadDto implements Omit<MediaTemplatePayload, 'elements'> {
  @Field(required, oneOf(['media'])) template_type: 'media';
  @NestedArray(() => MediaElementDto, required, items(LIMITS.mediaElements, LIMITS.mediaElements))
  elements: MediaElement[];
  @Coerce(toBooleanish) @Field(...sharable) sharable?: boolean;
}

// --- receipt ---

const amount = [required, number];
const optionalAmount = [optional, number];

export class ReceiptElementDto implements ReceiptElement {
  @Field(...text(LIMITS.elementTitle)) title: string;
  @Field(optional, string) subtitle?: string;
  @Coerce(toNumberish) @Field(...optionalAmount) quantity?: number;
  @Coerce(toNumberish) @Field(...amount) price: number;
  @Coerce(toUpperCase) @Field(optional, string, currency) currency?: string;
  @Field(optional, string, httpUrl) image_url?: string;
}

export class ReceiptAddressDto implements ReceiptAddress {
  @Field(required, string, nonEmpty) street_1: string;
  @Field(optional, string) street_2?: string;
  @Field(required, string, nonEmpty) city: string;
  @Coerce(toStringish) @Field(required, string, nonEmpty) postal_code: string;
  @Field(required, string, nonEmpty) state: string;
  @Field(required, string, nonEmpty) country: string;
}

export class ReceiptSummaryDto implements ReceiptSummary {
  @Coerce(toNumberish) @Field(...optionalAmount) subtotal?: number;
  @Coerce(toNumberish) @Field(...optionalAmount) shipping_cost?: number;
  @Coerce(toNumberish) @Field(...optionalAmount) total_tax?: number;
  @Coerce(toNumberish) @Field(...amount) total_cost: number;
}

export class ReceiptAdjustmentDto implements ReceiptAdjustment {
  @Field(required, string, nonEmpty) name: string;
  @Coerce(toNumberish) @Field(...amount) amount: number;
}

const digits = (v: unknown) =>
  typeof v === 'string' && /^\d+$/.test(v) ? undefined : 'must be a UNIX timestamp in seconds';

export class ReceiptTemplatePayloadDto implements ReceiptTemplatePayload {
  @Field(required, oneOf(['receipt'])) template_type: 'receipt';
  @Coerce(toBooleanish) @Field(...sharable) sharable?: boolean;
  @Field(required, string, nonEmpty) recipient_name: string;
  @Field(optional, string) merchant_name?: string;
  @Coerce(toStringish) @Field(required, string, nonEmpty) order_number: string;
  @Coerce(toUpperCase) @Field(required, string, currency) currency: string;
  @Field(required, string, nonEmpty) payment_method: string;
  @Coerce(toStringish) @Field(optional, string, digits) timestamp?: string;
  @Field(optional, string, httpUrl) order_url?: string;
  @NestedArray(() => ReceiptElementDto, optional, items(0, LIMITS.receiptElements)) elements?: ReceiptElement[];
  @Nested(() => ReceiptAddressDto, optional) address?: ReceiptAddress;
  @Nested(() => ReceiptSummaryDto, required) summary: ReceiptSummary;
  @NestedArray(() => ReceiptAdjustmentDto, optional) adjustments?: ReceiptAdjustment[];
}

// --- coupon ---

// "Required unless coupon_url is set" (and the other way round): a code to reveal, a link to follow, or both.
const codeOrUrl = (p: { coupon_code?: string; coupon_url?: string }) =>
  p.coupon_code === undefined && p.coupon_url === undefined ? 'must set one of coupon_code or coupon_url' : undefined;
// Zero-width and other invisible format characters (\p{Cf}) count too: a code the person can't see to type is no code.
const noSpaces = (v: unknown) => (typeof v === 'string' && /[\s\p{Cf}]/u.test(v) ? 'must not contain spaces' : undefined);

// Fields in the order of Meta's reference table.
export class CouponTemplatePayloadDto implements CouponTemplatePayload {
  @Field(required, oneOf(['coupon'])) template_type: 'coupon';
  @Field(...text(LIMITS.couponTitle)) title: string;
  @Field(optional, string, maxChars(LIMITS.couponSubtitle)) subtitle?: string;
  @Shape(codeOrUrl)
  $code?: never;
  @Coerce(toStringish)
  @Field(optional, string, nonEmpty, noSpaces, maxChars(LIMITS.couponCode))
  coupon_code?: string;
  // Sent as a message of its own before the coupon: a message text's bound.
  @Field(optional, string, fewerThan(LIMITS.text)) coupon_pre_message?: string;
  @Field(optional, string, httpUrl) coupon_url?: string;
  @Field(optional, string, maxChars(LIMITS.couponUrlButtonTitle)) coupon_url_button_title?: string;
  @Field(optional, string, httpUrl) image_url?: string;
  @Coerce(toStringish) @Field(optional, string, maxChars(LIMITS.payload)) payload?: string;
}

// --- customer feedback ---

// The question's id keys its answer in the webhook (`questions: {<id>: …}`): a plain word, so a bot can use it as one.
const questionId = (v: unknown) =>
  typeof v === 'string' && !/^[A-Za-z0-9_-]+$/.test(v) ? 'must be letters, digits, "_" or "-"' : undefined;
// The scale depends on the question's type; an unknown type is reported on `type` itself.
const scoreOptionOfType = (v: unknown, q: { type?: unknown }) => {
  const options = FEEDBACK_SCORE_OPTIONS[q.type as FeedbackQuestionType] as readonly string[] | undefined;
  return options ? oneOf(options)(v, q) : SKIP;
};
const wholeDays = (v: unknown) =>
  Number.isInteger(v) && (v as number) >= 1 && (v as number) <= LIMITS.feedbackExpiresInDaysMax
    ? undefined
    : `must be a whole number of days from 1 to ${LIMITS.feedbackExpiresInDaysMax}`;

export class FeedbackFollowUpDto {
  @Field(required, oneOf(['free_form'])) type: 'free_form';
  @Field(optional, string, maxChars(LIMITS.feedbackPlaceholder)) placeholder?: string;
}

export class FeedbackQuestionDto implements FeedbackQuestion {
  @Coerce(toStringish) @Field(required, string, nonEmpty, maxChars(LIMITS.feedbackQuestionId), questionId) id: string;
  @Coerce(toLowerCase) @Field(required, oneOf(FEEDBACK_QUESTION_TYPES)) type: FeedbackQuestionType;
  @Field(optional, string, nonEmpty, maxChars(LIMITS.feedbackQuestionTitle)) title?: string;
  @Coerce(toLowerCase) @Field(optional, oneOf(FEEDBACK_SCORE_LABELS)) score_label?: FeedbackQuestion['score_label'];
  @Coerce(toLowerCase) @Field(optional, string, scoreOptionOfType) score_option?: string;
  @Nested(() => FeedbackFollowUpDto, optional) follow_up?: FeedbackQuestion['follow_up'];
}

export class FeedbackScreenDto {
  @NestedArray(() => FeedbackQuestionDto, required, items(1, LIMITS.feedbackQuestions)) questions: FeedbackQuestion[];
}

export class BusinessPrivacyDto {
  @Field(required, string, httpUrl) url: string;
}

export class CustomerFeedbackTemplatePayloadDto implements CustomerFeedbackTemplatePayload {
  @Field(required, oneOf(['customer_feedback'])) template_type: 'customer_feedback';
  @Field(...text(LIMITS.feedbackTitle)) title: string;
  @Field(optional, string, maxChars(LIMITS.feedbackSubtitle)) subtitle?: string;
  @Field(...text(LIMITS.feedbackButtonTitle)) button_title: string;
  @NestedArray(() => FeedbackScreenDto, required, items(1, LIMITS.feedbackScreens))
  feedback_screens: { questions: FeedbackQuestion[] }[];
  @Nested(() => BusinessPrivacyDto, required) business_privacy: { url: string };
  @Coerce(toNumberish) @Field(optional, wholeDays) expires_in_days?: number;
}

// --- notification_messages (marketing messages' opt-in request) ---

/** True for a time zone name the runtime's ICU knows (IANA names: `UTC`, `Europe/Paris`, …). */
export function isTimeZone(v: unknown): boolean {
  if (typeof v !== 'string' || v === '' || v.length > 64) return false;
  try {
    new Intl.DateTimeFormat('en', { timeZone: v });
    return true;
  } catch {
    return false;
  }
}
const timeZone = (v: unknown) => (isTimeZone(v) ? undefined : 'must be a time zone name such as UTC or Europe/Paris');

// Fields in the order of Meta's marketing messages guide.
export class NotificationMessagesTemplatePayloadDto implements NotificationMessagesTemplatePayload {
  @Field(required, oneOf(['notification_messages'])) template_type: 'notification_messages';
  @Field(optional, string, httpUrl) image_url?: string;
  @Field(...text(LIMITS.notificationMessagesTitle)) title: string;
  @Coerce(toStringish) @Field(required, string, nonEmpty, maxChars(LIMITS.payload)) payload: string;
  @Coerce(toUpperCase)
  @Field(optional, oneOf(NOTIFICATION_MESSAGES_FREQUENCIES))
  notification_messages_frequency?: NotificationMessagesTemplatePayload['notification_messages_frequency'];
  @Coerce(toUpperCase)
  @Field(optional, oneOf(NOTIFICATION_MESSAGES_CTA_TEXTS))
  notification_messages_cta_text?: NotificationMessagesTemplatePayload['notification_messages_cta_text'];
  @Field(optional, string, timeZone) notification_messages_timezone?: string;
  @Coerce(toUpperCase)
  @Field(optional, oneOf(NOTIFICATION_MESSAGES_REOPTIN))
  notification_messages_reoptin?: NotificationMessagesTemplatePayload['notification_messages_reoptin'];
}

// --- dispatch on template_type ---

class UnknownTemplate {
  @Field(required, oneOf(TEMPLATE_TYPES)) template_type: unknown;
}

const TEMPLATES: Record<string, Ctor> = {
  generic: GenericTemplatePayloadDto,
  button: ButtonTemplatePayloadDto,
  media: MediaTemplatePayloadDto,
  receipt: ReceiptTemplatePayloadDto,
  coupon: CouponTemplatePayloadDto,
  customer_feedback: CustomerFeedbackTemplatePayloadDto,
  notification_messages: NotificationMessagesTemplatePayloadDto,
};

/** Picks the payload class for `attachment.payload` of a template attachment. */
export function templatePayload(raw: Record<string, unknown>): Ctor {
  const type = raw.template_type;
  return typeof type === 'string' && (TEMPLATE_TYPES as readonly string[]).includes(type)
    ? TEMPLATES[type]
    : UnknownTemplate;
}

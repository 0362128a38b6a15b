// The `message` object of the Send API (reference §2): text or attachment, quick replies, metadata.
import { ATTACHMENT_TYPES, LIMITS, MEDIA_ATTACHMENT_TYPES, QUICK_REPLY_CONTENT_TYPES } from './constants';
import {
  boolean,
  Coerce,
  Ctor,
  fewerThan,
  Field,
  httpUrl,
  items,
  KnownFields,
  maxChars,
  Nested,
  NestedArray,
  nonEmpty,
  oneOf,
  optional,
  required,
  Shape,
  string,
  toBooleanish,
  toStringish,
  when,
} from './rules';
import { exactlyOneSource, templatePayload } from './templates';
import type { Attachment, MediaPayload, MessageContent, QuickReply, ReplyTo, TemplatePayload } from './types';

export class MediaPayloadDto implements MediaPayload {
  @Shape(exactlyOneSource)
  $source?: never;
  @Field(optional, string, httpUrl) url?: string;
  @Coerce(toStringish) @Field(optional, string, nonEmpty) attachment_id?: string;
  @Coerce(toBooleanish) @Field(optional, boolean) is_reusable?: boolean;
}

// Used when `type` is wrong: that error is reported first, the payload is not looked at.
class UncheckedPayload {}

function attachmentPayload(_: Record<string, unknown>, attachment: Record<string, unknown>): Ctor {
  const raw = attachment.payload as Record<string, unknown>;
  if (attachment.type === 'template') return templatePayload(raw);
  if ((MEDIA_ATTACHMENT_TYPES as readonly unknown[]).includes(attachment.type)) return MediaPayloadDto;
  return UncheckedPayload;
}

export class AttachmentDto {
  @Field(required, oneOf(ATTACHMENT_TYPES)) type: Attachment['type'];
  @Nested(attachmentPayload, required) payload: MediaPayload | TemplatePayload;
}

const isText = (q: { content_type?: unknown }) => q.content_type === 'text';
// title, payload and image_url only mean something on a text quick reply; Messenger ignores them elsewhere.
const onlyOnText = (v: unknown, q: Record<string, unknown>) => (q.content_type === 'text' ? v : undefined);

export class QuickReplyDto {
  @Field(required, oneOf(QUICK_REPLY_CONTENT_TYPES)) content_type: QuickReply['content_type'];
  // An empty title is allowed when an image stands in for it.
  @Coerce(onlyOnText) @Field(when(isText), required, string, maxChars(LIMITS.quickReplyTitle)) title?: string;
  @Coerce((v, q) => onlyOnText(toStringish(v), q))
  @Field(when(isText), required, string, maxChars(LIMITS.payload))
  payload?: string;
  @Coerce(onlyOnText)
  @Field(
    when(isText),
    (v, q: QuickReplyDto) => (v === undefined && q.title === '' ? 'is required when %title% is empty' : undefined),
    optional,
    string,
    httpUrl,
  )
  image_url?: string;
}

export class ReplyToDto implements ReplyTo {
  @Coerce(toStringish) @Field(required, string, nonEmpty) mid: string;
}

export const MESSAGE_FIELDS = ['text', 'attachment', 'quick_replies', 'metadata', 'reply_to'] as const;

export class MessageDto implements Omit<MessageContent, 'attachment' | 'quick_replies'> {
  @KnownFields(MESSAGE_FIELDS) $fields?: string[];
  @Shape((m: MessageDto) =>
    m.text !== undefined && m.attachment !== undefined
      ? { phrase: 'must not be combined with %text%', sub: ['attachment'] }
      : m.text === undefined && m.attachment === undefined
        ? 'must set one of text or attachment'
        : undefined,
  )
  $content?: never;
  @Field(optional, string, nonEmpty, fewerThan(LIMITS.text)) text?: string;
  @Nested(() => AttachmentDto, optional) attachment?: AttachmentDto;
  @NestedArray(() => QuickReplyDto, optional, items(0, LIMITS.quickReplies)) quick_replies?: QuickReplyDto[];
  @Field(optional, string, fewerThan(LIMITS.metadata)) metadata?: string;
  // Accepted here for bots that nest it; normalized to the top-level `reply_to`.
  @Nested(() => ReplyToDto, optional) reply_to?: ReplyTo;
}

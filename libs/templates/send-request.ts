// The body of `POST /v{ver}/me/messages` (reference §2).
import {
  DEPRECATED_MESSAGE_TAGS,
  GRAPH_TRANSPORT_PARAMS,
  LIMITS,
  MESSAGE_TAGS,
  MESSAGE_TAGS_DEPRECATED_SINCE,
  MESSAGING_TYPES,
  NOTIFICATION_TYPES,
  REACTION_ACTIONS,
  SENDER_ACTIONS,
} from './constants';
import { isReactionEmoji } from './reactions';
import { MessageDto, ReplyToDto } from './message';
import {
  Coerce,
  Field,
  KnownFields,
  maxChars,
  Nested,
  nonEmpty,
  oneOf,
  optional,
  required,
  Shape,
  SKIP,
  string,
  toLowerCase,
  toStringish,
} from './rules';
import { runSchema } from './schema';
import type { MessageContent, ReplyTo, SendRequest, ValidationResult } from './types';

const unsupportedRecipient = (v: unknown) =>
  v === undefined ? undefined : 'is not supported: Switchboard accepts recipient[id] (a PSID) or recipient[notification_messages_token]';

// A PSID or a marketing messages token, not both.
const idUnlessToken = (v: unknown, r: RecipientDto) => {
  if (r.notification_messages_token === undefined) return v === undefined ? 'is required' : undefined;
  return v === undefined ? SKIP : 'must not be combined with %notification_messages_token%';
};

export class RecipientDto {
  // The other Graph recipient forms (constants.UNSUPPORTED_RECIPIENT_FIELDS) come first,
  // so they get their own message rather than "id is required".
  @Field(unsupportedRecipient) user_ref?: never;
  @Field(unsupportedRecipient) comment_id?: never;
  @Field(unsupportedRecipient) post_id?: never;
  @Field(unsupportedRecipient) phone_number?: never;
  @Field(optional, string, nonEmpty, maxChars(LIMITS.notificationMessagesToken)) notification_messages_token?: string;
  @Coerce((v) => (typeof v === 'number' && Number.isSafeInteger(v) ? String(v) : v))
  @Field(
    (v) => (typeof v === 'number' ? 'must be a string (this number is too large to be exact)' : undefined),
    idUnlessToken,
    string,
    nonEmpty,
  )
  id?: string;
}

export const SEND_REQUEST_FIELDS = [
  'recipient',
  'messaging_type',
  'tag',
  'message',
  'sender_action',
  'notification_type',
  'reply_to',
  'persona_id',
  'payload',
] as const;

const tagRule = (v: unknown, r: SendRequestDto) => {
  if (r.messaging_type === 'MESSAGE_TAG')
    return v === undefined ? 'is required when %messaging_type% is MESSAGE_TAG' : undefined;
  return v === undefined ? SKIP : 'must only be set when %messaging_type% is MESSAGE_TAG';
};
const notDeprecated = (v: unknown) =>
  (DEPRECATED_MESSAGE_TAGS as readonly unknown[]).includes(v)
    ? `${String(v)} is deprecated since ${MESSAGE_TAGS_DEPRECATED_SINCE} (Graph refuses it with error 100); use one of [${MESSAGE_TAGS.join(', ')}]`
    : undefined;

const isReactionAction = (a: unknown) => (REACTION_ACTIONS as readonly unknown[]).includes(a);
const emoji = (v: unknown) => (isReactionEmoji(v) ? undefined : 'must be one emoji');

// react sets (or changes) the Page's one reaction to the message; unreact removes it and names only the message.
export class ReactPayloadDto {
  @KnownFields(['message_id', 'reaction']) $fields?: string[];
  @Coerce(toStringish) @Field(required, string, nonEmpty) message_id: string;
  @Field(required, string, emoji) reaction: string;
}

export class UnreactPayloadDto {
  @KnownFields(['message_id']) $fields?: string[];
  @Coerce(toStringish) @Field(required, string, nonEmpty) message_id: string;
}

const payloadRule = (v: unknown, r: SendRequestDto) => {
  if (isReactionAction(r.sender_action)) return v === undefined ? `is required when %sender_action% is ${String(r.sender_action)}` : undefined;
  return v === undefined ? SKIP : 'must only be set when %sender_action% is react or unreact';
};

export class SendRequestDto {
  @KnownFields(SEND_REQUEST_FIELDS, { allowed: GRAPH_TRANSPORT_PARAMS }) $fields?: string[];
  @Nested(() => RecipientDto, required) recipient: RecipientDto;
  // A bare sender_action request may leave messaging_type out (Meta's own examples do), and so may a marketing
  // message (a token recipient: Meta's example sends none; the window does not apply to it).
  @Field(
    (v, r: SendRequestDto) =>
      v === undefined &&
      ((r.sender_action !== undefined && r.message === undefined) || r.recipient?.notification_messages_token !== undefined)
        ? SKIP
        : undefined,
    required,
    oneOf(MESSAGING_TYPES),
  )
  messaging_type?: SendRequest['messaging_type'];
  @Field(tagRule, string, notDeprecated, oneOf(MESSAGE_TAGS)) tag?: SendRequest['tag'];
  @Shape((r: SendRequestDto) =>
    r.message !== undefined && r.sender_action !== undefined
      ? { phrase: 'must not be combined with %message%', sub: ['sender_action'] }
      : r.message === undefined && r.sender_action === undefined
        ? { phrase: 'is required unless %sender_action% is set', sub: ['message'] }
        : undefined,
  )
  $content?: never;
  @Nested(() => MessageDto, optional) message?: MessageDto;
  // Graph's Page Messages reference lists the values in capitals (TYPING_ON, MARK_SEEN…), the Messenger guides in
  // lower case: both are taken.
  @Coerce(toLowerCase)
  @Field(
    optional,
    oneOf(SENDER_ACTIONS),
    (_, r: SendRequestDto) =>
      r.recipient?.notification_messages_token !== undefined ? 'must not be sent to a %recipient%[notification_messages_token]' : undefined,
  )
  sender_action?: SendRequest['sender_action'];
  // `owner` is the raw request here: its sender_action not yet lower-cased.
  @Nested((_, owner) => (toLowerCase(owner.sender_action) === 'unreact' ? UnreactPayloadDto : ReactPayloadDto), payloadRule)
  payload?: SendRequest['payload'];
  @Field(optional, oneOf(NOTIFICATION_TYPES)) notification_type?: SendRequest['notification_type'];
  @Nested(() => ReplyToDto, optional, (_, r: SendRequestDto) =>
    (r.message as { reply_to?: unknown } | undefined)?.reply_to !== undefined
      ? 'must not be combined with %message%[reply_to]'
      : undefined,
  )
  reply_to?: ReplyTo;
  @Coerce(toStringish) @Field(optional, string, nonEmpty) persona_id?: string;
}

/**
 * Validates a Send API body (`POST /me/messages`) as Graph would.
 * Returns the normalized request, or the first failing param as Graph error 100.
 * Call `parseGraphParams` first when the body was form-encoded.
 */
export function validateSendRequest(body: unknown): ValidationResult<SendRequest> {
  const result = runSchema<SendRequest & { message?: { reply_to?: ReplyTo } }>(SendRequestDto, body, []);
  if (!result.ok || result.value.message?.reply_to === undefined) return result;
  const { reply_to, ...message } = result.value.message;
  return { ok: true, value: { ...result.value, message, reply_to } };
}

/**
 * Validates message content alone (what `message` holds), e.g. for a sandbox's `ctx.send`.
 * `path` names the root in error params (default `message`).
 */
export function validateMessageContent(
  content: unknown,
  options: { path?: string } = {},
): ValidationResult<MessageContent & { reply_to?: ReplyTo }> {
  return runSchema(MessageDto, content, [options.path ?? 'message']);
}

// libs/templates: Messenger Send API and Messenger Profile schemas with Graph-compatible errors.
// Plain TypeScript, no Nest: shared by the Send API route, the sandbox's ctx.send and the bot SDK.
export * from './constants';
export * from './types';
export {
  validateSendRequest,
  validateMessageContent,
  SendRequestDto,
  RecipientDto,
  ReactPayloadDto,
  UnreactPayloadDto,
  SEND_REQUEST_FIELDS,
} from './send-request';
export {
  validateMessengerProfile,
  validateMessengerProfileDelete,
  validateCustomUserSettings,
  CustomUserSettingsDto,
  MessengerProfileDto,
  MessengerProfileDeleteDto,
  GetStartedDto,
  GreetingDto,
  IceBreakerDto,
  LocalizedIceBreakersDto,
  PersistentMenuDto,
} from './messenger-profile';
export type { MessengerProfileOptions, CustomUserSettings } from './messenger-profile';
export { MessageDto, AttachmentDto, MediaPayloadDto, QuickReplyDto, ReplyToDto, MESSAGE_FIELDS } from './message';
export {
  GenericTemplatePayloadDto,
  GenericElementDto,
  ButtonTemplatePayloadDto,
  MediaTemplatePayloadDto,
  MediaElementDto,
  ReceiptTemplatePayloadDto,
  ReceiptElementDto,
  ReceiptAddressDto,
  ReceiptSummaryDto,
  ReceiptAdjustmentDto,
  CouponTemplatePayloadDto,
  CustomerFeedbackTemplatePayloadDto,
  FeedbackQuestionDto,
  FeedbackScreenDto,
  FeedbackFollowUpDto,
  BusinessPrivacyDto,
  NotificationMessagesTemplatePayloadDto,
  isTimeZone,
} from './templates';
export { checkFeedbackAnswers, feedbackExpiresAt, feedbackScale } from './customer-feedback';
export type { FeedbackAnswer, FeedbackScreensItem } from './customer-feedback';
export { buttonLabel } from './button-label';
export { WebUrlButtonDto, PostbackButtonDto, PhoneNumberButtonDto, AccountLinkButtonDto, AccountUnlinkButtonDto, DefaultActionDto } from './buttons';
export { parseGraphParams, parseGraphJson, nestBracketParams, parseFormBody, SEND_API_JSON_PARAMS, MESSENGER_PROFILE_JSON_PARAMS } from './form';
export type { JsonParseResult } from './form';
export { formatParam } from './schema';
export { parsePlatformMediaUrl, MEDIA_TEMPLATE_URL_SUBCODE } from './media-url';
export type { PlatformMediaUrl } from './media-url';
export { charCount, toBooleanish } from './rules';
export { toStorableText, unstorableTextPath, UNSTORABLE_TEXT_PHRASE } from './storable-text';
export { isReactionEmoji, reactionName, REACTION_NAMES } from './reactions';
export type { ReactionName } from './reactions';
export { validatePersona, PersonaDto, PERSONA_NAME_MAX_CHARS } from './personas';
export type { PersonaRequest } from './personas';

import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsDefined, IsObject, IsOptional, IsString, Length, Matches, ValidateIf, ValidateNested } from 'class-validator';

const CLIENT_ID = /^[A-Za-z0-9._:-]{1,64}$/;

export class QuickReplyAnswerDto {
  @ApiProperty({
    description:
      "The payload of the quick reply the person tapped, `text` being its title: one the thread's latest message, the Page's, offers (400 THREAD.QUICK_REPLY_NOT_OFFERED otherwise). For an email or phone chip, the value itself, as in `text`",
  })
  @IsString()
  @Length(1, 1000)
  payload: string;
}

export class AttachmentRefDto {
  @ApiProperty({ description: 'The id POST /threads/{id}/attachments returned', example: '512345678901234' })
  @IsString()
  @Matches(/^\d{1,20}$/, { message: 'media_id must be a media id' })
  media_id: string;
}

export class ReplyToInputDto {
  @ApiProperty({ example: 'm_Zm9vYmFy' })
  @Matches(/^m_[A-Za-z0-9_-]{1,86}$/, { message: 'reply_to.mid must be a message id (m_…)' })
  mid: string;
}

export class SendMessageDto {
  // Messenger: fewer than 2000 characters (code points). Optional when the message carries attachments.
  @ApiPropertyOptional({ example: 'Hi! Do you have these in blue?', maxLength: 1999 })
  @ValidateIf((o: SendMessageDto) => o.text !== undefined || !o.attachments?.length)
  @IsString()
  @Length(1, 1999)
  @Matches(/\S/, { message: 'text must not be blank' })
  text?: string;

  @ApiPropertyOptional({ type: [AttachmentRefDto], description: 'Uploads of this thread, at most 10' })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(10)
  // ValidateNested passes an array where an object belongs (it checks the array's items): `[]` reached the handler.
  @IsObject({ each: true })
  @ValidateNested({ each: true })
  @Type(() => AttachmentRefDto)
  attachments?: AttachmentRefDto[];

  @ApiPropertyOptional({ type: QuickReplyAnswerDto })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => QuickReplyAnswerDto)
  quick_reply?: QuickReplyAnswerDto;

  @ApiPropertyOptional({ type: () => ReplyToInputDto, description: 'A message of this thread (either side\'s) this one answers' })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => ReplyToInputDto)
  reply_to?: ReplyToInputDto;

  @ApiProperty({ description: 'Chosen by the client; a retry with the same id returns the first message', example: 'c-1' })
  @IsDefined()
  @IsString()
  @Matches(CLIENT_ID, { message: 'client_message_id must be 1–64 letters, digits or ._:-' })
  client_message_id: string;
}


// A tap on a button the Page offered: a postback button of one of its latest 100 messages in the thread, its
// persistent menu, Get Started or an ice breaker (400 THREAD.POSTBACK_NOT_OFFERED otherwise).
export class SendPostbackDto {
  @ApiProperty({ example: 'Get Started', description: "The button's title (an ice breaker's question)" })
  @IsString()
  @Length(1, 80)
  title: string;

  @ApiProperty({ example: 'GET_STARTED', description: "The button's payload: one the Page offered with this title" })
  @IsString()
  @Length(1, 1000)
  payload: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @Matches(CLIENT_ID, { message: 'client_message_id must be 1–64 letters, digits or ._:-' })
  client_message_id?: string;
}

export class SentMessageDto {
  @ApiProperty({ example: 'm_Zm9vYmFy' }) mid: string;
  @ApiProperty() seq: number;
  @ApiProperty({ description: 'ms since the epoch' }) timestamp: number;
}

export class ReplyToDto {
  @ApiProperty() mid: string;
}

export class MessageViewDto {
  @ApiProperty() mid: string;
  @ApiProperty() seq: number;
  @ApiProperty({ enum: ['person', 'page'] }) sender: string;
  @ApiProperty() timestamp: number;
  @ApiProperty({ enum: ['message', 'postback'] }) kind: string;
  @ApiPropertyOptional() text?: string;
  @ApiPropertyOptional({ type: QuickReplyAnswerDto }) quick_reply?: QuickReplyAnswerDto;
  @ApiPropertyOptional({ type: 'array', items: { type: 'object' } }) quick_replies?: unknown[];
  @ApiPropertyOptional({ type: 'object', additionalProperties: true }) attachment?: unknown;
  @ApiPropertyOptional({ type: 'array', items: { type: 'object' }, description: "The person's uploads: {type, payload:{media_id, url, thumbnail_url?, width?, height?}}, signed URLs minted per request" })
  attachments?: unknown[];
  @ApiPropertyOptional({ type: 'object', additionalProperties: true }) postback?: unknown;
  @ApiPropertyOptional() client_message_id?: string;
  @ApiPropertyOptional({ type: ReplyToDto, description: 'The Page replied to this earlier message of the thread' })
  reply_to?: ReplyToDto;
  @ApiPropertyOptional({ enum: ['REGULAR', 'SILENT_PUSH', 'NO_PUSH'], description: 'How the client should notify; absent means REGULAR' })
  notification_type?: string;
  @ApiPropertyOptional({
    type: 'object',
    properties: { id: { type: 'string' }, name: { type: 'string' }, profile_picture_url: { type: 'string' } },
    description: "The Page sent this as one of its personas (a human agent, say): show this name and picture",
  })
  persona?: { id: string; name: string; profile_picture_url?: string };
  @ApiPropertyOptional({ type: 'object', properties: { person: { type: 'string' }, page: { type: 'string' } }, description: "Each side's reaction (an emoji), when there is one" })
  reactions?: { person?: string; page?: string };
  @ApiPropertyOptional({ description: 'How many times you edited the text; absent when never' })
  num_edit?: number;
  @ApiPropertyOptional({
    type: 'object',
    properties: { revealed: { type: 'boolean' }, revealed_at: { type: 'number', description: 'ms since the epoch' } },
    description:
      "A coupon with a code: whether the person revealed it (POST …/messages/{mid}/reveal). Until then the person's view of attachment.payload has no coupon_code; the Page Inbox's has it",
  })
  coupon?: { revealed: boolean; revealed_at?: number };
  @ApiPropertyOptional({
    type: 'object',
    properties: {
      expires_at: { type: 'number', description: 'ms since the epoch: no answer is taken after it' },
      submitted_at: { type: 'number', description: 'ms since the epoch; absent until the person answered' },
      feedback_screens: {
        type: 'array',
        items: { type: 'object', additionalProperties: true },
        description: "The person's answers as the messaging_feedback webhook carries them: [{screen_id, questions: {<id>: {type, payload, follow_up?}}}]",
      },
    },
    description: 'A customer feedback request of the Page: until when it takes an answer, and the answer once given (POST …/messages/{mid}/feedback)',
  })
  feedback?: { expires_at: number; submitted_at?: number; feedback_screens?: unknown[] };
  @ApiPropertyOptional({
    description: "Page Inbox listings only: the app that sent this Page message (263902037430900: the Page's people in the inbox)",
  })
  app_id?: string;
  @ApiPropertyOptional({ enum: [true], description: 'A bot message the person may rate with a thumb (its app subscribes to response_feedback): PUT …/messages/{mid}/response-feedback' })
  thumbs?: true;
  @ApiPropertyOptional({ enum: ['good', 'bad'], description: "The person's thumb on this bot message, once given" })
  response_feedback?: 'good' | 'bad';
}

export class MessageListDto {
  @ApiProperty({ type: [MessageViewDto] }) data: MessageViewDto[];
  @ApiProperty() has_more: boolean;
  @ApiProperty() last_seq: number;
}

export class UploadedAttachmentDto {
  @ApiProperty({ description: 'Pass as attachments[].media_id when sending' }) media_id: string;
  @ApiProperty({ enum: ['image', 'video', 'audio', 'file'] }) type: string;
  @ApiProperty({ type: 'object', additionalProperties: true, description: '{url, thumbnail_url?, width?, height?, mime, size, duration_ms?}' })
  payload: Record<string, unknown>;
}

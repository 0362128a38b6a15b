import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsIn, IsInt, IsOptional, IsString, Length, Matches, Max, Min, ValidateIf } from 'class-validator';
import { ListThreadsQueryDto } from '../../messaging/dto/create-thread.dto';
import { MessageViewDto } from '../../messaging/dto/send-message.dto';

export const INBOX_FOLDERS = ['inbox', 'done', 'all'] as const;

export class InboxListQueryDto extends ListThreadsQueryDto {
  @ApiPropertyOptional({
    enum: INBOX_FOLDERS,
    default: 'inbox',
    description: 'inbox: not done; done: marked done and the person has written nothing since; all',
  })
  @IsOptional()
  @IsIn(INBOX_FOLDERS)
  folder?: (typeof INBOX_FOLDERS)[number];

  @ApiPropertyOptional({ description: "me, none, or an admin's account id: only conversations assigned so", example: 'me' })
  @IsOptional()
  @IsString()
  @Matches(/^(me|none|\d{1,20})$/, { message: "assignee must be me, none or an admin's account id" })
  assignee?: string;

  @ApiPropertyOptional({ description: "Only people whose name contains this (any case)", example: 'ada', maxLength: 100 })
  @IsOptional()
  @IsString()
  @Length(1, 100)
  q?: string;
}

// PATCH /pages/{id}/inbox/{thread}: what the Page's people change of a conversation's filing.
export class InboxThreadChangeDto {
  @ApiPropertyOptional({ description: 'true: done (it comes back to the inbox when the person writes again); false: back in the inbox now' })
  @IsOptional()
  @IsBoolean()
  done?: boolean;

  @ApiPropertyOptional({
    description: 'The last seq the filer saw: refused (409 INBOX.THREAD_CHANGED) if the person wrote after it',
    example: 12,
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  // A whole number past this (1e308 is one to IsInt) reached Postgres's bigint and failed there: a 500.
  @Max(Number.MAX_SAFE_INTEGER)
  last_seq?: number;

  @ApiPropertyOptional({ type: String, nullable: true, description: "An admin of the Page's account id; null: nobody", example: '1234' })
  @ValidateIf((_, v) => v !== null && v !== undefined)
  @IsString()
  @Matches(/^\d{1,20}$/, { message: "assignee_id must be an admin's account id, or null" })
  assignee_id?: string | null;
}

export class InboxSendDto {
  // Messenger: fewer than 2000 characters (code points), as a person's message.
  @ApiProperty({ example: 'Hi, this is Sam from the shop: let me check that for you.', maxLength: 1999 })
  @IsString()
  @Length(1, 1999)
  @Matches(/\S/, { message: 'text must not be blank' })
  text: string;

  @ApiPropertyOptional({ description: 'Chosen by the client; a retry with the same id returns the first message', example: 'inbox-1' })
  @IsOptional()
  @IsString()
  @Matches(/^[A-Za-z0-9._:-]{1,64}$/, { message: 'client_message_id must be 1-64 letters, digits or ._:-' })
  client_message_id?: string;

  @ApiPropertyOptional({ description: "Sent as one of the Page's personas (GET …/inbox/personas): the person sees its name and picture", example: '1234' })
  @IsOptional()
  @IsString()
  @Matches(/^\d{1,20}$/, { message: 'persona_id must be a persona id' })
  persona_id?: string;
}

export class InboxPersonaCreateDto {
  @ApiProperty({ example: 'Sam (support)', maxLength: 100 })
  @IsString()
  @Length(1, 100)
  @Matches(/\S/, { message: 'name must not be blank' })
  name: string;

  @ApiProperty({ description: 'Fetched once and stored here (an image); people load it from this platform', example: 'https://example.com/sam.png' })
  @IsString()
  @Length(1, 2048)
  profile_picture_url: string;
}

export class InboxPersonaDto {
  @ApiProperty() id: string;
  @ApiProperty() name: string;
  @ApiProperty({ description: 'Signed, expiring' }) profile_picture_url: string;
}

export class InboxPersonaListDto {
  @ApiProperty({ type: [InboxPersonaDto] }) data: InboxPersonaDto[];
}

export class InboxPersonaCreatedDto {
  @ApiProperty() id: string;
}

export class InboxTypingDto {
  @ApiProperty({ description: 'True while someone writes a reply (the person sees the Page typing until off, a reply or a timeout)' })
  @IsBoolean()
  on: boolean;

  @ApiPropertyOptional({ description: 'Typing as this persona: the person sees who is typing', example: '1234' })
  @IsOptional()
  @IsString()
  @Matches(/^\d{1,20}$/, { message: 'persona_id must be a persona id' })
  persona_id?: string;
}

export class ControlDto {
  @ApiProperty({ description: 'False: the Page has no primary receiver (no handover protocol), so its people may always reply' })
  handover: boolean;
  @ApiProperty({
    type: String,
    nullable: true,
    description: "The app controlling the thread (the primary when idle; 263902037430900 is Messenger's Page Inbox); null without handover",
  })
  controller_app_id: string | null;
  @ApiProperty({ type: String, nullable: true, description: "The controller's name ('Page Inbox' for the inbox)" })
  controller_name: string | null;
  @ApiProperty({ description: "The Page's people may reply: the Page Inbox controls the thread, or the Page has no handover" })
  inbox_has_control: boolean;
}

export class InboxControlDto {
  @ApiProperty({ type: ControlDto }) control: ControlDto;
}

class InboxPersonDto {
  @ApiProperty() name: string;
}

class InboxAssigneeDto {
  @ApiProperty() id: string;
  @ApiProperty() name: string;
}

export class InboxThreadDto {
  @ApiProperty() id: string;
  @ApiProperty({ description: "The person's id on this Page (PSID), as the Page's bots know them" }) psid: string;
  @ApiProperty({ type: InboxPersonDto }) person: InboxPersonDto;
  @ApiPropertyOptional({ type: MessageViewDto, nullable: true }) last_message: MessageViewDto | null;
  @ApiProperty({ description: "The person's messages after the Page's read mark" }) unread_count: number;
  @ApiProperty({ description: 'ms since the epoch' }) last_timestamp: number;
  @ApiProperty({ type: ControlDto }) control: ControlDto;
  @ApiProperty({ description: 'Marked done, and the person has written nothing since' }) done: boolean;
  @ApiProperty({ description: 'The person blocked messages from the Page: readable, not answerable (replies get 409 THREAD.BLOCKED)' })
  blocked: boolean;
  @ApiProperty({ type: InboxAssigneeDto, nullable: true, description: 'The admin it is assigned to' }) assignee: InboxAssigneeDto | null;
}

class InboxPagingDto {
  @ApiProperty({ type: String, nullable: true, description: 'Pass as cursor for the next page; null on the last' })
  next_cursor: string | null;
}

export class InboxThreadListDto {
  @ApiProperty({ type: [InboxThreadDto], description: 'Newest activity first; threads with at least one message' }) data: InboxThreadDto[];
  @ApiProperty({ type: InboxPagingDto }) paging: InboxPagingDto;
}

export class InboxNoteCreateDto {
  @ApiProperty({ example: 'Refund approved by Sam; waiting for the courier.', maxLength: 2000 })
  @IsString()
  @Length(1, 2000)
  @Matches(/\S/, { message: 'text must not be blank' })
  text: string;
}

class InboxNoteAuthorDto {
  @ApiProperty() id: string;
  @ApiProperty() name: string;
}

export class InboxNoteDto {
  @ApiProperty() id: string;
  @ApiProperty({ type: InboxNoteAuthorDto }) author: InboxNoteAuthorDto;
  @ApiProperty() text: string;
  @ApiProperty({ description: 'ISO 8601' }) created_at: string;
}

export class InboxNoteListDto {
  @ApiProperty({ type: [InboxNoteDto], description: 'Oldest first; the last 200' }) data: InboxNoteDto[];
}

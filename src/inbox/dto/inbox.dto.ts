import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsOptional, IsString, Length, Matches } from 'class-validator';
import { MessageViewDto } from '../../messaging/dto/send-message.dto';

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
}

export class InboxTypingDto {
  @ApiProperty({ description: 'True while someone writes a reply (the person sees the Page typing until off, a reply or a timeout)' })
  @IsBoolean()
  on: boolean;
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

export class InboxThreadDto {
  @ApiProperty() id: string;
  @ApiProperty({ description: "The person's id on this Page (PSID), as the Page's bots know them" }) psid: string;
  @ApiProperty({ type: InboxPersonDto }) person: InboxPersonDto;
  @ApiPropertyOptional({ type: MessageViewDto, nullable: true }) last_message: MessageViewDto | null;
  @ApiProperty({ description: "The person's messages after the Page's read mark" }) unread_count: number;
  @ApiProperty({ description: 'ms since the epoch' }) last_timestamp: number;
  @ApiProperty({ type: ControlDto }) control: ControlDto;
}

class InboxPagingDto {
  @ApiProperty({ type: String, nullable: true, description: 'Pass as cursor for the next page; null on the last' })
  next_cursor: string | null;
}

export class InboxThreadListDto {
  @ApiProperty({ type: [InboxThreadDto], description: 'Newest activity first; threads with at least one message' }) data: InboxThreadDto[];
  @ApiProperty({ type: InboxPagingDto }) paging: InboxPagingDto;
}

import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Matches } from 'class-validator';
import { MessageViewDto } from './send-message.dto';
import { PageSize } from '../../common/http/page-size';

export class CreateThreadDto {
  @ApiProperty({ example: '123456789012345' })
  @IsString()
  @Matches(/^\d{1,20}$/, { message: 'page_id must be a numeric id' })
  page_id: string;

  // What Messenger's m.me links carry (m.me/<page>?ref=…).
  @ApiPropertyOptional({
    example: 'summer-sale',
    description:
      "The ref of the link the person came from: the Page's bots get it as a messaging_referrals event, or on the Get Started postback of a new thread when the Page offers Get Started",
  })
  @IsOptional()
  @IsString()
  @Matches(/^[A-Za-z0-9+/=.:_-]{1,250}$/, { message: 'ref must be 1–250 letters, digits or +/=-.:_' })
  ref?: string;
}

export class ThreadDto {
  @ApiProperty() id: string;
  @ApiProperty() page_id: string;
  @ApiProperty({ description: "The thread's last message seq" }) last_seq: number;
  @ApiProperty({ description: 'Everything the Page sent up to this time (ms) is read by you' }) read_watermark: number;
  @ApiProperty() delivered_watermark: number;
  @ApiProperty({ description: "The Page's mark_seen: your messages up to this time (ms) are seen" })
  seen_by_page_watermark: number;
  @ApiProperty() seen_by_page_seq: number;
  @ApiProperty({
    description:
      "The Page's bots have your messages up to this time (ms): a webhook was acknowledged, a hosted script ran, or the bot pulled past them",
  })
  delivered_to_page_watermark: number;
  @ApiProperty({ description: 'Your messages up to this seq are delivered to the Page ("Delivered")' })
  delivered_to_page_seq: number;
  @ApiProperty({
    description:
      "You blocked messages from this Page: nothing it sends reaches you (its bots get Graph's 551), and you write nothing to it until you unblock",
  })
  blocked: boolean;
  @ApiProperty({ type: Number, nullable: true, description: 'When you blocked it (ms); null when not blocked' })
  blocked_at: number | null;
  @ApiProperty() created_at: string;
}

class ThreadPageDto {
  @ApiProperty() id: string;
  @ApiProperty() name: string;
}

export class ThreadSummaryDto extends ThreadDto {
  @ApiProperty({ type: ThreadPageDto }) page: ThreadPageDto;
  @ApiProperty({ description: 'Messages from the Page after your read watermark' }) unread_count: number;
  @ApiPropertyOptional({ type: MessageViewDto, nullable: true }) last_message: MessageViewDto | null;
}

export class ListThreadsQueryDto {
  @PageSize(50, 100)
  limit?: number;

  @ApiPropertyOptional({ description: 'paging.next_cursor of the previous page' })
  @IsOptional()
  @IsString()
  @Matches(/^\d{1,15}\.\d{1,18}\.\d{1,20}$/, { message: 'cursor must be a paging.next_cursor' })
  cursor?: string;
}

class ThreadPagingDto {
  @ApiProperty({ type: String, nullable: true, description: 'Pass as cursor for the next page; null on the last' })
  next_cursor: string | null;
}

export class ThreadListDto {
  @ApiProperty({ type: [ThreadSummaryDto], description: 'Newest activity first' }) data: ThreadSummaryDto[];
  @ApiProperty({ type: ThreadPagingDto }) paging: ThreadPagingDto;
}

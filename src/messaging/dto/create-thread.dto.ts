import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsString, Matches } from 'class-validator';
import { MessageViewDto } from './send-message.dto';

export class CreateThreadDto {
  @ApiProperty({ example: '123456789012345' })
  @IsString()
  @Matches(/^\d{1,20}$/, { message: 'page_id must be a numeric id' })
  page_id: string;
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

export class ThreadListDto {
  @ApiProperty({ type: [ThreadSummaryDto] }) data: ThreadSummaryDto[];
}

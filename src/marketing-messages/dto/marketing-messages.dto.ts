import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

export class TopicViewDto {
  @ApiProperty({ example: 'm_Zm9vYmFy', description: 'The opt-in request the person tapped (the latest, for a renewed token)' })
  mid: string;

  @ApiProperty({ example: 'Weekly deals', description: "The request's title: the topic (one token per person, Page and title)" })
  title: string;

  @ApiProperty({ example: 'DEALS', description: "The request's payload, given to the Page's apps" })
  payload: string;

  @ApiProperty({
    enum: ['active', 'stopped', 'expired'],
    description: 'active: the Page may send on it; stopped: the person stopped it (POST the opt-in again to resume); expired: opt in again',
  })
  status: 'active' | 'stopped' | 'expired';

  @ApiProperty({ description: 'When the current token was minted (epoch ms)' })
  opted_in_at: number;

  @ApiProperty({ description: 'When the token stops working (epoch ms)' })
  expires_at: number;

  @ApiPropertyOptional({ enum: ['DAILY', 'WEEKLY', 'MONTHLY'], description: "The request's (deprecated) frequency, when it set one" })
  frequency?: string;
}

export class TopicListDto {
  @ApiProperty({ type: [TopicViewDto] })
  data: TopicViewDto[];
}

import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsInt, IsOptional, IsString, Length, Max, Min } from 'class-validator';
import { PageSize } from '../../common/http/page-size';

export class ReadDto {
  @ApiProperty({ description: 'ms: every Page message up to this time is read' })
  @IsInt()
  @Min(0)
  @Max(Number.MAX_SAFE_INTEGER)
  watermark: number;
}

export class DeliveredDto {
  @ApiPropertyOptional({ description: 'ms: every Page message up to this time was received' })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(Number.MAX_SAFE_INTEGER)
  watermark?: number;

  @ApiPropertyOptional({ type: [String], description: 'mids of Page messages received' })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(100)
  @IsString({ each: true })
  @Length(1, 64, { each: true })
  mids?: string[];
}

export class WatermarkDto {
  @ApiProperty() watermark: number;
}

export class ListMessagesQueryDto {
  @ApiPropertyOptional({ default: 0 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(Number.MAX_SAFE_INTEGER)
  after_seq?: number;

  @PageSize(50, 200)
  limit?: number;
}

export class EventsQueryDto {
  @ApiPropertyOptional({ description: 'The last cursor you have; omitted: start at the current end (no history)' })
  @IsOptional()
  // Not @Type(Number): that reads `after=` as 0, the whole log, where an omitted one means the current end.
  @Transform(({ value }) => (typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value))
  @IsInt()
  @Min(0)
  @Max(Number.MAX_SAFE_INTEGER)
  after?: number;

  @ApiPropertyOptional({ description: 'Seconds to wait when nothing is there yet', default: 25, maximum: 60 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(60)
  timeout?: number;

  @PageSize(100, 500)
  limit?: number;
}

export class EventsPageDto {
  @ApiProperty({
    type: 'array',
    items: { type: 'object', additionalProperties: true },
    description: 'message | echo | read | delivery (with cursor) and typing (without)',
  })
  events: unknown[];
  @ApiProperty({ description: 'Pass as `after` on the next call' }) cursor: number;
  @ApiPropertyOptional({
    description:
      'true when `after` is older than the event log keeps (USER_EVENTS_RETENTION_SECONDS): reload threads and history over REST, then poll after `cursor`',
  })
  reset?: boolean;
}

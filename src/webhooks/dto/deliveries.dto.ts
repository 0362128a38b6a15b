import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsIn, IsInt, IsISO8601, IsOptional, IsString, Matches, Max, Min } from 'class-validator';

const toInt = ({ value }: { value: unknown }) => (value === undefined || value === '' ? undefined : Number(value));
export const DELIVERY_STATUSES = ['pending', 'in_flight', 'delivered', 'failed', 'pull'] as const;

export class ListDeliveriesQueryDto {
  @ApiPropertyOptional({ enum: DELIVERY_STATUSES })
  @IsOptional()
  @IsIn(DELIVERY_STATUSES)
  status?: string;

  @ApiPropertyOptional({ example: '2026-01-01T00:00:00Z' })
  @IsOptional()
  @IsISO8601()
  since?: string;

  @ApiPropertyOptional({ example: '2026-01-02T00:00:00Z' })
  @IsOptional()
  @IsISO8601()
  until?: string;

  @ApiPropertyOptional({ default: 50, maximum: 500 })
  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(500)
  limit?: number;

  @ApiPropertyOptional({ description: 'paging.next_cursor of the previous page' })
  @IsOptional()
  @Matches(/^\d{1,18}$/, { message: '$property must be a cursor this API gave' })
  cursor?: string;
}

export class ReplayDto {
  @ApiProperty({ example: '2026-01-01T00:00:00Z' })
  @IsISO8601()
  since: string;

  @ApiProperty({ example: '2026-01-02T00:00:00Z' })
  @IsISO8601()
  until: string;

  @ApiPropertyOptional({ enum: ['delivered', 'failed'], description: 'Only deliveries in this state (default both)' })
  @IsOptional()
  @IsIn(['delivered', 'failed'])
  status?: 'delivered' | 'failed';
}

export class PullEventsQueryDto {
  @ApiPropertyOptional({ description: 'Acknowledges every event up to and including this cursor' })
  @IsOptional()
  @Matches(/^\d{1,18}$/, { message: '$property must be a cursor this API gave' })
  after?: string;

  @ApiPropertyOptional({ default: 100, maximum: 1000 })
  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(1000)
  limit?: number;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  access_token?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  appsecret_proof?: string;
}

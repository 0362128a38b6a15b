import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';
import { PageSize } from '../../common/http/page-size';

export class ListQueryDto {
  @PageSize(50, 500)
  limit?: number;

  @ApiPropertyOptional({ default: 0 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  // OFFSET is a bigint: a whole number past this (1e308) failed in Postgres, a 500.
  @Max(Number.MAX_SAFE_INTEGER)
  offset?: number;
}

import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Length } from 'class-validator';
import { PageSize } from '../../common/http/page-size';

export class SearchPagesDto {
  @ApiPropertyOptional({ description: 'Part of the page name' })
  @IsOptional()
  @IsString()
  @Length(0, 100)
  q?: string;

  @PageSize(25, 100)
  limit?: number;
}

import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Length } from 'class-validator';

export class CreatePageDto {
  @ApiProperty({ example: 'Acme Shoes' })
  @IsString()
  @Length(1, 100)
  name: string;

  @ApiPropertyOptional({ example: 'Shopping & Retail' })
  @IsOptional()
  @IsString()
  @Length(1, 100)
  category?: string;
}

export class PageDto {
  @ApiProperty() id: string;
  @ApiProperty() name: string;
  @ApiProperty({ nullable: true, type: String }) category: string | null;
}

export class PageListDto {
  @ApiProperty({ type: [PageDto] }) data: PageDto[];
}

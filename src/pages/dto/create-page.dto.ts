import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Length, Matches } from 'class-validator';

export class CreatePageDto {
  @ApiProperty({ example: 'Acme Shoes' })
  @IsString()
  @Length(1, 100)
  // What people see it as (their thread list, the conversation's header).
  @Matches(/\S/, { message: 'name must not be blank' })
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

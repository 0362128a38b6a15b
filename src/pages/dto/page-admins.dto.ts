import { ApiProperty } from '@nestjs/swagger';
import { IsString, Length } from 'class-validator';

export class AddPageAdminDto {
  @ApiProperty({ example: 'ada', description: "The person's username (as they log in with it)" })
  @IsString()
  @Length(1, 64)
  username: string;
}

export class PageAdminDto {
  @ApiProperty() user_id: string;
  @ApiProperty() username: string;
  @ApiProperty() name: string;
  @ApiProperty({ description: 'When they became an admin (ISO 8601)' }) added_at: string;
}

export class PageAdminListDto {
  @ApiProperty({ type: [PageAdminDto] }) data: PageAdminDto[];
}

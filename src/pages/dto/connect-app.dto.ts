import { ApiProperty } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsIn, IsString, Matches } from 'class-validator';
import { MESSENGER_FIELDS } from '../messenger-fields';

export class ConnectAppDto {
  @ApiProperty({ example: '123456789012345' })
  @IsString()
  @Matches(/^\d{1,20}$/, { message: 'app_id must be a numeric id' })
  app_id: string;

  @ApiProperty({ enum: MESSENGER_FIELDS, isArray: true, example: ['messages', 'messaging_postbacks'] })
  @IsArray()
  @ArrayMaxSize(MESSENGER_FIELDS.length)
  @IsIn(MESSENGER_FIELDS as unknown as string[], { each: true })
  subscribed_fields: string[];
}

export class ConnectAppResponseDto {
  @ApiProperty({ description: 'Page access token for this (page, app) pair; shown once' })
  page_access_token: string;
}

export class PageAppDto {
  @ApiProperty() app_id: string;
  @ApiProperty() name: string;
  @ApiProperty({ type: [String] }) subscribed_fields: string[];
}

export class PageAppListDto {
  @ApiProperty({ type: [PageAppDto] }) data: PageAppDto[];
}

import { ApiProperty } from '@nestjs/swagger';
import { Matches } from 'class-validator';

export class AvatarParamsDto {
  @ApiProperty({ example: '101' })
  @Matches(/^\d{1,20}$/, { message: 'pageId must be a numeric id' })
  pageId: string;

  @ApiProperty({ example: '1254477777772919' })
  @Matches(/^\d{1,20}$/, { message: 'psid must be a numeric id' })
  psid: string;
}

export class AvatarQueryDto {
  @ApiProperty({ description: 'Expiry, unix seconds' })
  @Matches(/^\d{1,12}$/, { message: 'exp must be unix seconds' })
  exp: string;

  @ApiProperty({ description: 'HMAC of page id, psid and exp' })
  @Matches(/^[A-Za-z0-9_-]{1,128}$/, { message: 'sig must be base64url' })
  sig: string;
}

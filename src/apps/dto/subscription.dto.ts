import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsDefined, IsIn, IsOptional, IsString, Length } from 'class-validator';

// Graph's POST /{app_id}/subscriptions: fields as a comma list (or JSON array), body JSON or form-encoded.
export class CreateSubscriptionDto {
  @ApiProperty({ enum: ['page'], example: 'page' })
  @IsIn(['page'])
  object: string;

  @ApiProperty({ example: 'https://bot.example.com/webhook' })
  @IsString()
  @Length(1, 2048)
  callback_url: string;

  @ApiProperty({ example: 'my-verify-token' })
  @IsString()
  @Length(1, 256)
  verify_token: string;

  @ApiProperty({ example: 'messages,messaging_postbacks' })
  @IsDefined()
  fields: string | string[];

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  access_token?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  appsecret_proof?: string;

  @ApiPropertyOptional({ description: 'Accepted for compatibility; values are always included' })
  @IsOptional()
  @IsIn([true, false, 'true', 'false'])
  include_values?: boolean | string;
}

export class DeleteSubscriptionQueryDto {
  @ApiPropertyOptional({ enum: ['page'] })
  @IsOptional()
  @IsIn(['page'])
  object?: string;

  @ApiPropertyOptional({ example: 'message_reads', description: 'Remove only these fields (a comma list or JSON array)' })
  @IsOptional()
  fields?: string | string[];

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  access_token?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  appsecret_proof?: string;
}

// Graph's GET /oauth/access_token with the client-credentials grant: the app token for an app's id and secret.
export class AppTokenQueryDto {
  @ApiProperty({ example: '123456789012345' })
  @IsString()
  @Length(1, 20)
  client_id: string;

  @ApiProperty()
  @IsString()
  @Length(1, 256)
  client_secret: string;

  @ApiProperty({ enum: ['client_credentials'] })
  @IsIn(['client_credentials'])
  grant_type: string;
}

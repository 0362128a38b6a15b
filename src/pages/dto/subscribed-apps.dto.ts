import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString } from 'class-validator';

// Graph bodies may carry access_token and any list as a comma string.
export class SubscribedAppsDto {
  @ApiPropertyOptional({ example: 'messages,messaging_postbacks' })
  @IsOptional()
  subscribed_fields?: string | string[];

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  access_token?: string;
}

export class GraphTokenQueryDto {
  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  access_token?: string;

  @ApiPropertyOptional({ example: 'messages,messaging_postbacks' })
  @IsOptional()
  subscribed_fields?: string;

  @ApiPropertyOptional({ description: 'Ignored: Graph field selection' })
  @IsOptional()
  @IsString()
  fields?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  appsecret_proof?: string;
}

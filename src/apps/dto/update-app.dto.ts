import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsOptional, IsString, Length } from 'class-validator';

export class UpdateAppDto {
  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @Length(1, 100)
  name?: string;

  @ApiPropertyOptional({ description: 'Require appsecret_proof on every Graph call made with this app’s tokens' })
  @IsOptional()
  @IsBoolean()
  require_appsecret_proof?: boolean;
}

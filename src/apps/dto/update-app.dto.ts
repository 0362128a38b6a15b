import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsString, Length, ValidateIf } from 'class-validator';

// null is not "absent": a PATCH that sends null for a required column is refused, not half-applied.
const IfPresent = () => ValidateIf((_, v) => v !== undefined);

export class UpdateAppDto {
  @ApiPropertyOptional()
  @IfPresent()
  @IsString()
  @Length(1, 100)
  name?: string;

  @ApiPropertyOptional({ description: 'Require appsecret_proof on every Graph call made with this app’s tokens' })
  @IfPresent()
  @IsBoolean()
  require_appsecret_proof?: boolean;
}

import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Length, Matches } from 'class-validator';

// What the Page's apps are told (messaging_policy_enforcement), as Messenger words it: the reason for the action.
export class SuspendPageDto {
  @ApiPropertyOptional({ maxLength: 1000, example: 'Sending out excessive spammy messages' })
  @IsOptional()
  @IsString()
  @Length(1, 1000)
  @Matches(/\S/, { message: 'reason must not be blank' })
  reason?: string;
}

export class WarnPageDto {
  @ApiProperty({ maxLength: 1000, example: 'Messages tagged HUMAN_AGENT are being sent by automation' })
  @IsString()
  @Length(1, 1000)
  @Matches(/\S/, { message: 'reason must not be blank' })
  reason: string;
}

export class PolicyActionDto {
  @ApiProperty() id: string;
  @ApiProperty() suspended: boolean;
  @ApiProperty({ description: 'Whether this call changed anything (and told the apps): false when it was so already' })
  changed: boolean;
}

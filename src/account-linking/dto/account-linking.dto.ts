import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Length, Matches } from 'class-validator';

export class StartAccountLinkingDto {
  @ApiProperty({ example: 'm_Zm9vYmFy', description: 'The Page message whose Log In button was tapped' })
  @Matches(/^m_[A-Za-z0-9_-]{1,86}$/, { message: 'mid must be a message id (m_…)' })
  mid: string;

  @ApiProperty({ example: 'https://shop.example/messenger-login', description: "The button's url, as the message has it" })
  @IsString()
  @Length(1, 2048)
  url: string;
}

export class AccountLinkingStartedDto {
  @ApiProperty({
    description:
      'Where to send the person: the login page, with account_linking_token and redirect_uri added. The page sends them back to redirect_uri with &authorization_code=… once they logged in (without it: cancelled).',
  })
  authorize_url: string;

  @ApiProperty({ description: 'When the token expires (epoch ms)' })
  expires_at: number;
}

export class AccountLinkStateDto {
  @ApiProperty() linked: boolean;
  @ApiPropertyOptional({ description: 'When it was linked (epoch ms)' }) linked_at?: number;
}

export class CompleteAccountLinkingQueryDto {
  @ApiProperty({ description: 'The token of the Log In tap (it is in redirect_uri)' })
  @Matches(/^alt_[A-Za-z0-9_-]{43}$/, { message: 'account_linking_token must be a token this server issued' })
  account_linking_token: string;

  @ApiPropertyOptional({ description: "The login page's code, passed through to the bots (absent: the person did not log in)" })
  @IsOptional()
  @IsString()
  @Length(1, 2048)
  authorization_code?: string;
}

// What the chat app sends once the login page returned (the fragment the return put in its URL).
export class CompleteAccountLinkingDto extends CompleteAccountLinkingQueryDto {}

export class AccountLinkingCompletedDto {
  @ApiProperty({ enum: ['linked', 'cancelled'], description: 'linked: with a code; cancelled: the person did not log in' })
  status: 'linked' | 'cancelled';

  @ApiProperty({ description: 'Whether the account is linked now (a cancelled login leaves an earlier link as it was)' })
  linked: boolean;
}

import { ApiProperty } from '@nestjs/swagger';
import { IsString, Length, Matches } from 'class-validator';

export class SignupDto {
  @ApiProperty({ example: 'ada', description: '3–32 characters: letters, digits, dot, dash, underscore' })
  @IsString()
  @Matches(/^[A-Za-z0-9._-]{3,32}$/, { message: 'username must be 3–32 letters, digits, dots, dashes or underscores' })
  username: string;

  @ApiProperty({ example: 'correct horse battery staple', minLength: 8, maxLength: 256 })
  @IsString()
  @Length(8, 256)
  password: string;

  @ApiProperty({ example: 'Ada Lovelace' })
  @IsString()
  @Length(1, 100)
  // What the Page's people see them as (the inbox, Graph's name).
  @Matches(/\S/, { message: 'name must not be blank' })
  name: string;
}

export class SignupResponseDto {
  @ApiProperty() id: string;
  @ApiProperty() username: string;
  @ApiProperty() name: string;
  @ApiProperty({ description: 'Person token; send as `Authorization: Bearer`' }) access_token: string;
}

import { ApiProperty } from '@nestjs/swagger';
import { IsString, Length } from 'class-validator';

export class LoginDto {
  @ApiProperty({ example: 'ada' })
  @IsString()
  @Length(1, 64)
  username: string;

  @ApiProperty({ example: 'correct horse battery staple' })
  @IsString()
  @Length(1, 256)
  password: string;
}

export class LoginResponseDto {
  @ApiProperty() access_token: string;
  @ApiProperty({ description: 'Seconds until the token expires' }) expires_in: number;
}

export class MeResponseDto {
  @ApiProperty() id: string;
  @ApiProperty() username: string;
  @ApiProperty() name: string;
}

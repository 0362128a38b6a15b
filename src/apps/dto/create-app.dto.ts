import { ApiProperty } from '@nestjs/swagger';
import { IsString, Length } from 'class-validator';

export class CreateAppDto {
  @ApiProperty({ example: 'Order bot' })
  @IsString()
  @Length(1, 100)
  name: string;
}

export class AppDto {
  @ApiProperty() id: string;
  @ApiProperty() name: string;
  @ApiProperty() require_appsecret_proof: boolean;
}

export class CreatedAppDto {
  @ApiProperty() id: string;
  @ApiProperty() name: string;
  @ApiProperty({ description: 'Shown once. The app token is `{id}|{secret}`.' }) secret: string;
}

export class RotatedSecretDto {
  @ApiProperty({ description: 'The new secret, shown once' }) secret: string;
  @ApiProperty({ description: 'Until then the previous secret still works and still signs webhooks' })
  previous_secret_expires_at: string;
}

export class AppListDto {
  @ApiProperty({ type: [AppDto] }) data: AppDto[];
}

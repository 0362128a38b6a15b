import { ApiProperty } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsDefined, IsIn, IsString, Matches, ValidateIf } from 'class-validator';
import { MESSENGER_FIELDS } from '../messenger-fields';

export class SubscribedFieldsDto {
  @ApiProperty({ enum: MESSENGER_FIELDS, isArray: true, example: ['messages', 'messaging_postbacks'] })
  @IsArray()
  @ArrayMaxSize(MESSENGER_FIELDS.length)
  @IsIn(MESSENGER_FIELDS as unknown as string[], { each: true })
  subscribed_fields: string[];
}

export class ConnectAppDto extends SubscribedFieldsDto {
  @ApiProperty({ example: '123456789012345' })
  @IsString()
  @Matches(/^\d{1,20}$/, { message: 'app_id must be a numeric id' })
  app_id: string;
}

export class ConnectAppResponseDto {
  @ApiProperty({ description: 'Page access token for this (page, app) pair; shown once' })
  page_access_token: string;
}

export const HANDOVER_ROLES = ['primary', 'secondary'] as const;
export type HandoverRole = (typeof HANDOVER_ROLES)[number];

export class PageAppDto {
  @ApiProperty() app_id: string;
  @ApiProperty() name: string;
  @ApiProperty({ type: [String] }) subscribed_fields: string[];
  @ApiProperty({ enum: HANDOVER_ROLES, nullable: true, description: 'Handover protocol role; null: none' })
  handover_role: HandoverRole | null;
}

export class HandoverRoleDto {
  @ApiProperty({
    enum: HANDOVER_ROLES,
    nullable: true,
    description:
      "primary: owns idle threads and may take control (at most one per page: setting it makes the previous primary secondary); secondary: gets a thread's events on standby until control is passed to it; null: no role. A page with a primary routes each thread's events to the app controlling it",
  })
  @IsDefined({ message: 'role is required (null removes it)' })
  @ValidateIf((o: HandoverRoleDto) => o.role !== null)
  @IsIn(HANDOVER_ROLES as unknown as string[])
  role: HandoverRole | null;
}

export class PageAppListDto {
  @ApiProperty({ type: [PageAppDto] }) data: PageAppDto[];
}

import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsIn, IsInt, IsObject, IsOptional, IsString, MaxLength, Min, MinLength } from 'class-validator';
import { MESSENGER_FIELDS } from '../../pages/messenger-fields';

export class ScriptLimitsDto {
  @ApiPropertyOptional({ example: 32 }) @IsOptional() @IsInt() @Min(0) memoryMb?: number;
  @ApiPropertyOptional({ example: 50 }) @IsOptional() @IsInt() @Min(0) cpuMs?: number;
  @ApiPropertyOptional({ example: 50 }) @IsOptional() @IsInt() @Min(0) initCpuMs?: number;
  @ApiPropertyOptional({ example: 2000 }) @IsOptional() @IsInt() @Min(0) wallMs?: number;
  @ApiPropertyOptional({ example: 10 }) @IsOptional() @IsInt() @Min(0) maxSends?: number;
  @ApiPropertyOptional({ example: 50 }) @IsOptional() @IsInt() @Min(0) maxHostCalls?: number;
  @ApiPropertyOptional({ example: 100 }) @IsOptional() @IsInt() @Min(0) maxLogEntries?: number;
  @ApiPropertyOptional({ example: 16384 }) @IsOptional() @IsInt() @Min(0) maxLogBytes?: number;
}

export class UploadScriptDto {
  @ApiProperty({ description: 'An ES module whose default export holds handlers (onMessage, onPostback, …)', example: 'export default { async onMessage(e, ctx) { await ctx.send({ recipient: { id: e.sender.id }, message: { text: e.message.text } }); } };' })
  @IsString()
  @MinLength(1)
  @MaxLength(1_048_576)
  source: string;

  @ApiPropertyOptional({ enum: MESSENGER_FIELDS, isArray: true, example: ['messages', 'messaging_postbacks'] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(MESSENGER_FIELDS.length)
  @IsIn(MESSENGER_FIELDS as unknown as string[], { each: true })
  subscribed_fields?: string[];

  @ApiPropertyOptional({ type: [String], description: 'https hosts ctx.fetch may reach', example: ['api.example.com'] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(20)
  @IsString({ each: true })
  allowed_hosts?: string[];

  @ApiPropertyOptional({ type: ScriptLimitsDto, description: 'Per-page overrides of the sandbox limits' })
  @IsOptional()
  @IsObject()
  limits?: ScriptLimitsDto;
}

export class TestScriptDto {
  @ApiProperty({ description: 'A Messenger messaging item, as a webhook would carry it', example: { sender: { id: '1' }, recipient: { id: '2' }, timestamp: 1, message: { mid: 'm_1', text: 'hi' } } })
  @IsObject()
  event: Record<string, unknown>;
}

export class ScriptVersionDto {
  @ApiProperty() version: number;
  @ApiProperty({ type: [String] }) subscribed_fields: string[];
  @ApiProperty({ type: [String] }) allowed_hosts: string[];
  @ApiProperty({ type: Object }) limits: Record<string, number>;
  @ApiProperty() active: boolean;
  @ApiProperty() created_at: string;
}

export class ScriptSourceDto extends ScriptVersionDto {
  @ApiProperty({ description: 'The module as uploaded' }) source: string;
}

export class ScriptListDto {
  @ApiProperty({
    nullable: true,
    type: String,
    description: "The Page's hosted-script app (its echoes' app_id; give it a handover role with PUT /pages/{id}/apps/{app_id}/handover-role); null before the first activation",
  })
  app_id: string | null;
  @ApiProperty({ enum: ['primary', 'secondary'], nullable: true, description: "The hosted app's handover protocol role on the Page; null: none (or not connected)" })
  handover_role: 'primary' | 'secondary' | null;
  @ApiProperty({ nullable: true, type: Number }) active_version: number | null;
  @ApiProperty() paused: boolean;
  @ApiProperty({ nullable: true, type: String }) paused_at: string | null;
  @ApiProperty({ nullable: true, type: String }) paused_reason: string | null;
  @ApiProperty() consecutive_failures: number;
  @ApiProperty({ type: [ScriptVersionDto] }) data: ScriptVersionDto[];
}

export class ResumeScriptDto {
  @ApiProperty() active_version: number;
  @ApiProperty() paused: boolean;
  @ApiProperty({ description: 'false when the script was not paused (nothing to do)' }) resumed: boolean;
  @ApiProperty({ description: 'events waiting for the script' }) kept_events: number;
}

export class DeactivateScriptDto {
  @ApiProperty({ nullable: true, type: Number, example: null, description: 'always null: no version is active any more' }) active_version: null;
  @ApiProperty({ example: false }) paused: boolean;
  @ApiProperty({ description: 'false when no version was active (nothing to do)' }) deactivated: boolean;
  @ApiProperty({ description: 'events that were waiting for the script and will not run' }) dropped_events: number;
}

export class ScriptLogDto {
  @ApiProperty() id: string;
  @ApiProperty({ enum: ['log', 'info', 'warn', 'error', 'debug'] }) level: string;
  @ApiProperty({ enum: ['script', 'platform'], description: "'platform' for the platform's own lines (how a run ended, a pause); the script can't write those" })
  source: string;
  @ApiProperty() message: string;
  @ApiProperty({ nullable: true, type: String }) delivery_id: string | null;
  @ApiProperty() created_at: string;
}

export class ScriptLogListDto {
  @ApiProperty({ type: [ScriptLogDto] }) data: ScriptLogDto[];
}

export class DrySendDto {
  @ApiProperty({ type: Object, description: 'The Send API request, or {handover: {action, recipient, target_app_id?, metadata?}} for a ctx.handover call (recorded, not made)' })
  message: unknown;
  @ApiProperty({ type: Object, nullable: true }) result: unknown;
  @ApiProperty({ nullable: true, type: String }) error: string | null;
}

export class DryRunDto {
  @ApiProperty({ enum: ['ok', 'error', 'limit'] }) outcome: string;
  @ApiProperty({ nullable: true, type: String }) handler: string | null;
  @ApiProperty() handled: boolean;
  @ApiPropertyOptional({ enum: ['cpu', 'wall', 'memory', 'sends', 'host_calls'] }) limit?: string;
  @ApiPropertyOptional({ type: Object }) error?: { code: string; message: string };
  @ApiProperty({ type: [DrySendDto] }) sends: DrySendDto[];
  @ApiProperty({ type: [Object] }) logs: { level: string; message: string }[];
  @ApiProperty() logs_truncated: boolean;
  @ApiProperty() cpu_ms: number;
  @ApiProperty() wall_ms: number;
}

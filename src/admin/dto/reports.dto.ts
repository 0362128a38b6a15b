import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Length, Matches, Max, MaxLength, Min } from 'class-validator';
import { PageSize } from '../../common/http/page-size';
import { MessageViewDto } from '../../messaging/dto/send-message.dto';
import { REPORT_ACTIONS, REPORT_DETAILS_MAX, REPORT_REASONS, REPORT_STATUSES } from '../../reports/report-rules';
import type { ReportAction, ReportReason, ReportStatus } from '../../reports/report-rules';
import { PolicyActionDto } from './policy.dto';

export class ListReportsQueryDto {
  @ApiPropertyOptional({ enum: REPORT_STATUSES, default: 'open' })
  @IsOptional()
  @IsIn(REPORT_STATUSES, { message: `status must be one of ${REPORT_STATUSES.join(', ')}` })
  status?: ReportStatus;

  @ApiPropertyOptional({ description: "Only this Page's reports" })
  @IsOptional()
  @Matches(/^\d{1,20}$/, { message: 'page_id must be a page id' })
  page_id?: string;

  @ApiPropertyOptional({ description: 'paging.next_cursor of the previous page' })
  @IsOptional()
  @IsString()
  @MaxLength(60)
  cursor?: string;

  @PageSize(50, 200)
  limit?: number;
}

export class ReportDetailQueryDto {
  @ApiPropertyOptional({ default: 20, maximum: 100, description: 'How many of the last messages up to reported_seq' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100)
  messages?: number;
}

export class ResolveReportDto {
  @ApiProperty({ enum: REPORT_ACTIONS, description: "dismiss: nothing else; warn, suspend: as POST /admin/pages/{id}/warn|suspend (the Page's apps are told)" })
  @IsIn(REPORT_ACTIONS, { message: `action must be one of ${REPORT_ACTIONS.join(', ')}` })
  action: ReportAction;

  @ApiPropertyOptional({ maxLength: 1000, description: "The operators' own note, kept on the report; nobody else sees it" })
  @IsOptional()
  @IsString()
  @MaxLength(1000)
  note?: string;

  @ApiPropertyOptional({
    maxLength: 1000,
    example: 'Sending out excessive spammy messages',
    description: "warn, suspend: what the Page's apps are told (policy_enforcement.reason); never names the reporter",
  })
  @IsOptional()
  @IsString()
  @Length(1, 1000)
  @Matches(/\S/, { message: 'reason must not be blank' })
  reason?: string;

  @ApiPropertyOptional({ maxLength: 80, example: 'grace', description: "Who resolves it (the admin token names nobody); 'admin' when omitted" })
  @IsOptional()
  @IsString()
  @Length(1, 80)
  @Matches(/\S/, { message: 'operator must not be blank' })
  operator?: string;
}

class ReportPageDto {
  @ApiProperty() id: string;
  @ApiProperty() name: string;
}

class ReporterDto {
  @ApiProperty() id: string;
  @ApiProperty() name: string;
}

export class AdminReportDto {
  @ApiProperty() id: string;
  @ApiProperty({ type: ReportPageDto }) page: ReportPageDto;
  @ApiProperty() thread_id: string;
  @ApiProperty({ type: ReporterDto }) reporter: ReporterDto;
  @ApiProperty({ enum: REPORT_REASONS }) reason: ReportReason;
  @ApiProperty({ type: String, nullable: true, maxLength: REPORT_DETAILS_MAX }) details: string | null;
  @ApiProperty({ enum: REPORT_STATUSES }) status: ReportStatus;
  @ApiProperty({ description: "The thread's last seq when reported: the messages up to it are what was reported" }) reported_seq: number;
  @ApiProperty() created_at: string;
  @ApiProperty({ description: 'When the person last reported it' }) updated_at: string;
  @ApiProperty({ type: String, nullable: true }) resolved_at: string | null;
  @ApiProperty({ enum: REPORT_ACTIONS, nullable: true }) resolution: ReportAction | null;
  @ApiProperty({ type: String, nullable: true }) resolution_note: string | null;
  @ApiProperty({ type: String, nullable: true }) resolved_by: string | null;
}

class ReportPagingDto {
  @ApiProperty({ type: String, nullable: true }) next_cursor: string | null;
}

export class AdminReportListDto {
  @ApiProperty({ type: [AdminReportDto] }) data: AdminReportDto[];
  @ApiProperty({ type: ReportPagingDto }) paging: ReportPagingDto;
}

export class AdminReportDetailDto extends AdminReportDto {
  @ApiProperty({ type: [MessageViewDto], description: 'The last messages up to reported_seq, oldest first, as the Page Inbox shows them' })
  messages: MessageViewDto[];
}

export class ResolvedReportDto {
  @ApiProperty({ type: AdminReportDto }) report: AdminReportDto;
  @ApiProperty({ type: PolicyActionDto, nullable: true, description: 'warn, suspend: the Page as the action left it; null for dismiss and for a retry' })
  enforcement: PolicyActionDto | null;
}

import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsIn, IsOptional, IsString, MaxLength } from 'class-validator';
import { REPORT_DETAILS_MAX, REPORT_REASONS, REPORT_STATUSES } from '../report-rules';
import type { ReportReason, ReportStatus } from '../report-rules';

export class CreateReportDto {
  @ApiProperty({ enum: REPORT_REASONS, example: 'spam' })
  @IsIn(REPORT_REASONS, { message: `reason must be one of ${REPORT_REASONS.join(', ')}` })
  reason: ReportReason;

  @ApiPropertyOptional({ maxLength: REPORT_DETAILS_MAX, example: 'They keep sending me links to a "prize"' })
  @IsOptional()
  @IsString()
  @MaxLength(REPORT_DETAILS_MAX)
  details?: string;

  @ApiPropertyOptional({ default: false, description: 'Also block messages from the Page (as POST /threads/{id}/block), in the same transaction' })
  @IsOptional()
  @IsBoolean()
  block?: boolean;
}

export class ReportDto {
  @ApiProperty({ example: '712345678901234' }) id: string;
  @ApiProperty({ enum: REPORT_REASONS }) reason: ReportReason;
  @ApiProperty({ type: String, nullable: true }) details: string | null;
  @ApiProperty({ enum: REPORT_STATUSES }) status: ReportStatus;
  @ApiProperty({ example: '2026-12-07T10:00:00.000Z' }) created_at: string;
  @ApiProperty({ description: 'When you last reported it (again while open: the same report, updated)' }) updated_at: string;
  @ApiProperty({ description: 'Whether you now block messages from the Page' }) blocked: boolean;
}

import { Body, Controller, Get, HttpCode, Param, Post, Query, Req } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { AdminAuth } from '../auth/guards/auth.guards';
import { requestOrigin } from '../media/media.service';
import { ReportsService } from '../reports/reports.service';
import { AdminReportDetailDto, AdminReportListDto, ListReportsQueryDto, ReportDetailQueryDto, ResolveReportDto, ResolvedReportDto } from './dto/reports.dto';

// People's reports of their conversations with Pages, for the operators (ADMIN_TOKEN).
@ApiTags('admin')
@Controller('admin/reports')
@AdminAuth()
export class AdminReportsController {
  constructor(private readonly reports: ReportsService) {}

  @Get()
  @ApiOperation({ summary: 'Reports newest first, open ones unless status says otherwise' })
  @ApiOkResponse({ type: AdminReportListDto })
  list(@Query() q: ListReportsQueryDto): Promise<AdminReportListDto> {
    return this.reports.list({ status: q.status ?? 'open', pageId: q.page_id, cursor: q.cursor, limit: q.limit ?? 50 });
  }

  @Get(':reportId')
  @ApiOperation({ summary: 'A report with the last messages of the conversation up to what was reported' })
  @ApiOkResponse({ type: AdminReportDetailDto })
  detail(@Param('reportId') reportId: string, @Query() q: ReportDetailQueryDto, @Req() req: FastifyRequest): Promise<AdminReportDetailDto> {
    return this.reports.detail(reportId, q.messages ?? 20, requestOrigin(req));
  }

  @Post(':reportId/resolve')
  @HttpCode(200)
  @ApiOperation({ summary: 'Close a report: dismiss it, or warn or suspend the Page (its apps are told, as the Page routes do)' })
  @ApiOkResponse({ type: ResolvedReportDto, description: 'The same on a retry of the action that closed it; 409 REPORT.CLOSED for another' })
  resolve(@Param('reportId') reportId: string, @Body() dto: ResolveReportDto): Promise<ResolvedReportDto> {
    return this.reports.resolve(reportId, dto.action, { note: dto.note, reason: dto.reason, operator: dto.operator });
  }
}

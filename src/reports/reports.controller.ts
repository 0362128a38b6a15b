import { Body, Controller, Param, Post, Res } from '@nestjs/common';
import { ApiCreatedResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { CurrentPrincipal, PersonAuth } from '../auth/guards/auth.guards';
import type { PersonPrincipal } from '../auth/principal';
import { CreateReportDto, ReportDto } from './dto/report.dto';
import { ReportsService } from './reports.service';

// The person's "Report" on their own thread; the operators read it under /admin/reports. The Page is never told.
@ApiTags('threads')
@Controller('threads/:threadId')
@PersonAuth()
export class ReportsController {
  constructor(private readonly reports: ReportsService) {}

  @Post('report')
  @ApiOperation({
    summary: 'Report the conversation to the operators (spam, scam, …), optionally blocking messages from the Page in the same step',
  })
  @ApiCreatedResponse({
    type: ReportDto,
    description: 'Created; 200 when a report of this thread was still open: that report, updated (a retry changes nothing else)',
  })
  async report(
    @CurrentPrincipal() who: PersonPrincipal,
    @Param('threadId') threadId: string,
    @Body() dto: CreateReportDto,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<ReportDto> {
    const { report, created, blocked } = await this.reports.report(who.userId, threadId, dto);
    void reply.status(created ? 201 : 200);
    return { ...report, blocked };
  }
}

import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { AppsService } from '../apps/apps.service';
import { AdminAuth } from '../auth/guards/auth.guards';
import { PagesService } from '../pages/pages.service';
import { ReportsService } from '../reports/reports.service';
import { ListQueryDto } from './dto/list-query.dto';
import { PolicyActionDto, SuspendPageDto, WarnPageDto } from './dto/policy.dto';

// Operators only: ADMIN_TOKEN as a bearer token (Swagger's "admin" scheme).
@ApiTags('admin')
@Controller('admin')
@AdminAuth()
export class AdminController {
  constructor(
    private readonly pages: PagesService,
    private readonly apps: AppsService,
    private readonly reports: ReportsService,
  ) {}

  // Each with its open reports (GET /admin/reports?page_id=).
  @Get('pages')
  async listPages(@Query() q: ListQueryDto) {
    const { total, data } = await this.pages.listAll(q.limit ?? 50, q.offset ?? 0);
    const open = await this.reports.openCounts(data.map((p) => p.id));
    return { total, data: data.map((p) => ({ ...p, open_reports: open.get(p.id) ?? 0 })) };
  }

  // Each is Messenger's policy enforcement for the Page's apps (messaging_policy_enforcement: block, unblock, warning).
  @Post('pages/:pageId/suspend')
  @HttpCode(200)
  @ApiOkResponse({ type: PolicyActionDto, description: 'Blocked: nobody can message the Page or act for it; its apps are told (block, with the reason)' })
  async suspendPage(@Param('pageId') pageId: string, @Body() dto: SuspendPageDto): Promise<PolicyActionDto> {
    const { page, changed } = await this.pages.enforcePolicy(pageId, 'block', dto?.reason);
    return { id: page.id, suspended: true, changed };
  }

  @Post('pages/:pageId/restore')
  @HttpCode(200)
  @ApiOkResponse({ type: PolicyActionDto, description: 'Unblocked; its apps are told (unblock)' })
  async restorePage(@Param('pageId') pageId: string): Promise<PolicyActionDto> {
    const { page, changed } = await this.pages.enforcePolicy(pageId, 'unblock');
    return { id: page.id, suspended: false, changed };
  }

  @Post('pages/:pageId/warn')
  @HttpCode(200)
  @ApiOkResponse({ type: PolicyActionDto, description: "Nothing changes but the apps' knowing: they are told (warning, with the reason)" })
  async warnPage(@Param('pageId') pageId: string, @Body() dto: WarnPageDto): Promise<PolicyActionDto> {
    const { page, changed } = await this.pages.enforcePolicy(pageId, 'warning', dto.reason);
    return { id: page.id, suspended: Boolean(page.suspendedAt), changed };
  }

  @Get('apps')
  listApps(@Query() q: ListQueryDto) {
    return this.apps.listAll(q.limit ?? 50, q.offset ?? 0);
  }

  @Post('apps/:appId/suspend')
  @HttpCode(200)
  async suspendApp(@Param('appId') appId: string) {
    const a = await this.apps.setSuspended(appId, true);
    return { id: a.id, suspended: true };
  }

  @Post('apps/:appId/restore')
  @HttpCode(200)
  async restoreApp(@Param('appId') appId: string) {
    const a = await this.apps.setSuspended(appId, false);
    return { id: a.id, suspended: false };
  }
}

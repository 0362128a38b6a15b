import { Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { AppsService } from '../apps/apps.service';
import { AdminAuth } from '../auth/guards/auth.guards';
import { PagesService } from '../pages/pages.service';
import { ListQueryDto } from './dto/list-query.dto';

// Operators only: ADMIN_TOKEN as a bearer token (Swagger's "admin" scheme).
@ApiTags('admin')
@Controller('admin')
@AdminAuth()
export class AdminController {
  constructor(
    private readonly pages: PagesService,
    private readonly apps: AppsService,
  ) {}

  @Get('pages')
  listPages(@Query() q: ListQueryDto) {
    return this.pages.listAll(q.limit ?? 50, q.offset ?? 0);
  }

  @Post('pages/:pageId/suspend')
  @HttpCode(200)
  async suspendPage(@Param('pageId') pageId: string) {
    const p = await this.pages.setSuspended(pageId, true);
    return { id: p.id, suspended: true };
  }

  @Post('pages/:pageId/restore')
  @HttpCode(200)
  async restorePage(@Param('pageId') pageId: string) {
    const p = await this.pages.setSuspended(pageId, false);
    return { id: p.id, suspended: false };
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

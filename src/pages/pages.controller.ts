import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, PersonAuth } from '../auth/guards/auth.guards';
import type { PersonPrincipal } from '../auth/principal';
import { ConnectAppDto, ConnectAppResponseDto, HandoverRoleDto, PageAppDto, PageAppListDto, SubscribedFieldsDto } from './dto/connect-app.dto';
import { CreatePageDto, PageDto, PageListDto } from './dto/create-page.dto';
import { AddPageAdminDto, PageAdminDto, PageAdminListDto } from './dto/page-admins.dto';
import { SearchPagesDto } from './dto/search-pages.dto';
import { PagesService } from './pages.service';

@ApiTags('pages')
@Controller('pages')
@PersonAuth()
export class PagesController {
  constructor(private readonly pages: PagesService) {}

  @Post()
  @ApiCreatedResponse({ type: PageDto })
  create(@CurrentPrincipal() who: PersonPrincipal, @Body() dto: CreatePageDto): Promise<PageDto> {
    return this.pages.create(who.userId, dto.name, dto.category);
  }

  @Get()
  @ApiOkResponse({ type: PageListDto })
  async search(@Query() query: SearchPagesDto): Promise<PageListDto> {
    return { data: await this.pages.search(query.q, query.limit) };
  }

  @Get('mine')
  @ApiOkResponse({ type: PageListDto })
  async mine(@CurrentPrincipal() who: PersonPrincipal): Promise<PageListDto> {
    return { data: await this.pages.pagesAdministeredBy(who.userId) };
  }

  @Get(':pageId')
  @ApiOkResponse({ type: PageDto })
  async get(@Param('pageId') pageId: string): Promise<PageDto> {
    const p = await this.pages.findActive(pageId);
    return { id: p.id, name: p.name, category: p.category };
  }

  @Get(':pageId/admins')
  @ApiOkResponse({ type: PageAdminListDto })
  async admins(@CurrentPrincipal() who: PersonPrincipal, @Param('pageId') pageId: string): Promise<PageAdminListDto> {
    return { data: await this.pages.listAdmins(pageId, who.userId) };
  }

  // A business adds the developer of a bot it wants as an admin; the developer then connects their own app.
  @Post(':pageId/admins')
  @ApiCreatedResponse({ type: PageAdminDto })
  addAdmin(@CurrentPrincipal() who: PersonPrincipal, @Param('pageId') pageId: string, @Body() dto: AddPageAdminDto): Promise<PageAdminDto> {
    return this.pages.addAdmin(pageId, who.userId, dto.username);
  }

  @Delete(':pageId/admins/:userId')
  @HttpCode(204)
  @ApiNoContentResponse()
  async removeAdmin(
    @CurrentPrincipal() who: PersonPrincipal,
    @Param('pageId') pageId: string,
    @Param('userId') userId: string,
  ): Promise<void> {
    await this.pages.removeAdmin(pageId, who.userId, userId);
  }

  // Only an app its caller owns: see PagesService.connectApp.
  @Post(':pageId/apps')
  @ApiCreatedResponse({ type: ConnectAppResponseDto })
  async connect(
    @CurrentPrincipal() who: PersonPrincipal,
    @Param('pageId') pageId: string,
    @Body() dto: ConnectAppDto,
  ): Promise<ConnectAppResponseDto> {
    return { page_access_token: await this.pages.connectApp(pageId, who.userId, dto.app_id, dto.subscribed_fields) };
  }

  @Get(':pageId/apps')
  @ApiOkResponse({ type: PageAppListDto })
  async apps(@CurrentPrincipal() who: PersonPrincipal, @Param('pageId') pageId: string): Promise<PageAppListDto> {
    return { data: await this.pages.listApps(pageId, who.userId) };
  }

  @Put(':pageId/apps/:appId/fields')
  @ApiOkResponse({ type: PageAppDto, description: 'The webhook fields this page sends the app; its page token is unchanged' })
  setFields(
    @CurrentPrincipal() who: PersonPrincipal,
    @Param('pageId') pageId: string,
    @Param('appId') appId: string,
    @Body() dto: SubscribedFieldsDto,
  ): Promise<PageAppDto> {
    return this.pages.updateSubscribedFields(pageId, who.userId, appId, dto.subscribed_fields);
  }

  // Handover protocol: which app owns idle threads (primary) and which wait on standby (secondary).
  @Put(':pageId/apps/:appId/handover-role')
  @ApiOkResponse({ type: PageAppDto })
  setHandoverRole(
    @CurrentPrincipal() who: PersonPrincipal,
    @Param('pageId') pageId: string,
    @Param('appId') appId: string,
    @Body() dto: HandoverRoleDto,
  ): Promise<PageAppDto> {
    return this.pages.setHandoverRole(pageId, who.userId, appId, dto.role);
  }

  @Delete(':pageId/apps/:appId')
  @HttpCode(204)
  @ApiNoContentResponse()
  async disconnect(
    @CurrentPrincipal() who: PersonPrincipal,
    @Param('pageId') pageId: string,
    @Param('appId') appId: string,
  ): Promise<void> {
    await this.pages.disconnectApp(pageId, who.userId, appId);
  }
}

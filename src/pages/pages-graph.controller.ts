import { Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBody, ApiOkResponse, ApiQuery, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, GraphAuth } from '../auth/guards/auth.guards';
import type { PagePrincipal, PersonPrincipal } from '../auth/principal';
import { GraphErrors } from '../common/errors/graph.exception';
import { GRAPH_PARAMS_PIPE, GraphParams } from '../common/http/graph-params';
import { GRAPH_ROUTE_PREFIX } from '../common/http/graph-route';
import { PageListDto } from './dto/create-page.dto';
import { GraphTokenQueryDto, SubscribedAppsDto } from './dto/subscribed-apps.dto';
import { requireMessengerFields } from './messenger-fields';
import { PagesService } from './pages.service';

@ApiTags('graph: pages')
@Controller(GRAPH_ROUTE_PREFIX)
export class PagesGraphController {
  constructor(private readonly pages: PagesService) {}

  @Get('me/accounts')
  @GraphAuth('person')
  @ApiQuery({ name: 'access_token', required: false })
  @ApiOkResponse({ type: PageListDto })
  async accounts(@CurrentPrincipal() who: PersonPrincipal, @GraphParams(GRAPH_PARAMS_PIPE) _q: GraphTokenQueryDto): Promise<PageListDto> {
    return { data: await this.pages.pagesAdministeredBy(who.userId) };
  }

  @Post(':pageRef/subscribed_apps')
  @HttpCode(200)
  @GraphAuth('page')
  @ApiBody({ type: SubscribedAppsDto, description: 'Or the same params in the query string' })
  async subscribe(
    @CurrentPrincipal() who: PagePrincipal,
    @Param('pageRef') pageRef: string,
    @GraphParams(GRAPH_PARAMS_PIPE) params: SubscribedAppsDto,
  ) {
    assertOwnPage(who, pageRef);
    const fields = requireMessengerFields(params.subscribed_fields, 'subscribed_fields');
    await this.pages.setSubscribedFields(who.pageId, who.appId, fields);
    return { success: true };
  }

  @Get(':pageRef/subscribed_apps')
  @GraphAuth('page')
  @ApiQuery({ name: 'access_token', required: false })
  async list(@CurrentPrincipal() who: PagePrincipal, @Param('pageRef') pageRef: string, @GraphParams(GRAPH_PARAMS_PIPE) _q: GraphTokenQueryDto) {
    assertOwnPage(who, pageRef);
    const apps = await this.pages.connectedApps(who.pageId, who.appId);
    return {
      data: apps
        .filter((a) => a.subscribed_fields.length)
        .map((a) => ({ id: a.app_id, name: a.name, subscribed_fields: a.subscribed_fields })),
    };
  }

  @Delete(':pageRef/subscribed_apps')
  @GraphAuth('page')
  @ApiQuery({ name: 'access_token', required: false })
  async unsubscribe(
    @CurrentPrincipal() who: PagePrincipal,
    @Param('pageRef') pageRef: string,
    @GraphParams(GRAPH_PARAMS_PIPE) _q: GraphTokenQueryDto,
  ) {
    assertOwnPage(who, pageRef);
    await this.pages.setSubscribedFields(who.pageId, who.appId, []);
    return { success: true };
  }
}

// `me` or the page's own id; a page token never acts on another page.
export function assertOwnPage(who: PagePrincipal, pageRef: string): void {
  if (pageRef !== 'me' && pageRef !== who.pageId) {
    throw GraphErrors.permission('(#200) The page access token does not belong to this page');
  }
}

import { Body, Controller, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBody, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, GraphAuth } from '../auth/guards/auth.guards';
import type { PagePrincipal } from '../auth/principal';
import { mergeParams } from '../common/http/graph-params';
import { GRAPH_ROUTE_PREFIX } from '../common/http/graph-route';
import { assertOwnPage } from '../pages/pages-graph.controller';
import { AccountLinkingService } from './account-linking.service';

@ApiTags('graph: send api')
@Controller(GRAPH_ROUTE_PREFIX)
export class AccountLinkingGraphController {
  constructor(private readonly linking: AccountLinkingService) {}

  // Messenger's Account Unlink API. (Whose Log In tap a token is: GET /me?fields=recipient&account_linking_token=.)
  @Post(':pageRef/unlink_accounts')
  @GraphAuth('page')
  @HttpCode(200)
  @ApiBody({
    description: "Unlinks the person's account; the Page's apps get messaging_account_linking unlinked (when it was linked)",
    schema: { type: 'object', required: ['psid'], properties: { psid: { type: 'string' } } },
  })
  @ApiOkResponse({ schema: { example: { result: 'unlink account success' } } })
  unlink(@CurrentPrincipal() who: PagePrincipal, @Param('pageRef') pageRef: string, @Query() q: Record<string, unknown>, @Body() body: unknown) {
    assertOwnPage(who, pageRef);
    const params = mergeParams(q, body);
    return this.linking.unlinkByPage(who.pageId, who.appId, (params as Record<string, unknown> | undefined)?.psid);
  }
}

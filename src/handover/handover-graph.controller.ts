import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBody, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, GraphAuth } from '../auth/guards/auth.guards';
import type { PagePrincipal } from '../auth/principal';
import { mergeParams } from '../common/http/graph-params';
import { GRAPH_ROUTE_PREFIX } from '../common/http/graph-route';
import { assertOwnPage } from '../pages/pages-graph.controller';
import { HandoverErrors } from './handover.errors';
import { HandoverService } from './handover.service';

// The body schema Swagger shows (the params may come in the query or a form too).
const CONTROL_BODY = {
  type: 'object',
  required: ['recipient'] as string[],
  properties: {
    recipient: { type: 'object', properties: { id: { type: 'string', description: 'PSID' } } },
    metadata: { type: 'string', description: 'Up to 1000 characters, passed on in the notice' },
  },
};

// Messenger's handover protocol routes (page token). Each answers {success: true}.
@ApiTags('graph: handover protocol')
@Controller(GRAPH_ROUTE_PREFIX)
export class HandoverGraphController {
  constructor(private readonly handover: HandoverService) {}

  @Post(':pageRef/pass_thread_control')
  @GraphAuth('page')
  @HttpCode(200)
  @ApiBody({
    description:
      'The controlling app hands the thread to target_app_id (an app with a role, or the Page Inbox 263902037430900); a secondary may leave it out to hand back to the primary. The target gets pass_thread_control.',
    schema: { ...CONTROL_BODY, properties: { ...CONTROL_BODY.properties, target_app_id: { type: 'string' } } },
  })
  @ApiOkResponse({ schema: { example: { success: true } } })
  pass(@CurrentPrincipal() who: PagePrincipal, @Param('pageRef') pageRef: string, @Query() q: Record<string, unknown>, @Body() body: unknown) {
    return this.act(who, pageRef, 'pass', mergeParams(q, body));
  }

  @Post(':pageRef/take_thread_control')
  @GraphAuth('page')
  @HttpCode(200)
  @ApiBody({ description: 'The primary receiver takes the thread; the app that had it gets take_thread_control.', schema: CONTROL_BODY })
  @ApiOkResponse({ schema: { example: { success: true } } })
  take(@CurrentPrincipal() who: PagePrincipal, @Param('pageRef') pageRef: string, @Query() q: Record<string, unknown>, @Body() body: unknown) {
    return this.act(who, pageRef, 'take', mergeParams(q, body));
  }

  @Post(':pageRef/request_thread_control')
  @GraphAuth('page')
  @HttpCode(200)
  @ApiBody({ description: 'Asks the controlling app for the thread: it gets request_thread_control, and decides.', schema: CONTROL_BODY })
  @ApiOkResponse({ schema: { example: { success: true } } })
  request(@CurrentPrincipal() who: PagePrincipal, @Param('pageRef') pageRef: string, @Query() q: Record<string, unknown>, @Body() body: unknown) {
    return this.act(who, pageRef, 'request', mergeParams(q, body));
  }

  @Post(':pageRef/release_thread_control')
  @GraphAuth('page')
  @HttpCode(200)
  @ApiBody({ description: 'A secondary controlling the thread lets it go idle: the primary has it again and gets pass_thread_control.', schema: CONTROL_BODY })
  @ApiOkResponse({ schema: { example: { success: true } } })
  release(@CurrentPrincipal() who: PagePrincipal, @Param('pageRef') pageRef: string, @Query() q: Record<string, unknown>, @Body() body: unknown) {
    return this.act(who, pageRef, 'release', mergeParams(q, body));
  }

  @Get(':pageRef/thread_owner')
  @GraphAuth('page')
  @ApiOkResponse({ schema: { example: { data: [{ thread_owner: { app_id: '123456789012345' } }] } } })
  owner(@CurrentPrincipal() who: PagePrincipal, @Param('pageRef') pageRef: string, @Query() q: Record<string, unknown>) {
    assertOwnPage(who, pageRef);
    return this.handover.threadOwner(who.pageId, q);
  }

  @Get(':pageRef/secondary_receivers')
  @GraphAuth('page')
  @ApiOkResponse({ schema: { example: { data: [{ id: '123456789012345', name: 'Support inbox' }] } } })
  secondaries(@CurrentPrincipal() who: PagePrincipal, @Param('pageRef') pageRef: string) {
    assertOwnPage(who, pageRef);
    return this.handover.secondaryReceivers(who.pageId);
  }

  private act(who: PagePrincipal, pageRef: string, action: 'pass' | 'take' | 'request' | 'release', params: unknown) {
    assertOwnPage(who, pageRef);
    // A page token minted without an app (the Page itself) has no role to act with.
    if (!who.appId) throw HandoverErrors.noRole();
    return this.handover.control(who.pageId, who.appId, action, params);
  }
}

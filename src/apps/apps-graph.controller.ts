import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, GraphAuth } from '../auth/guards/auth.guards';
import type { AppPrincipal } from '../auth/principal';
import { GraphErrors } from '../common/errors/graph.exception';
import { GRAPH_ROUTE_PREFIX } from '../common/http/graph-route';
import { requireMessengerFields } from '../pages/messenger-fields';
import { GraphTokenQueryDto } from '../pages/dto/subscribed-apps.dto';
import { AppsService } from './apps.service';
import { CallbackVerifier } from './callback-verifier';
import { CreateSubscriptionDto, DeleteSubscriptionQueryDto } from './dto/subscription.dto';

const GRAPH_FIELD_VERSION = 'v25.0';

@ApiTags('graph: apps')
@Controller(GRAPH_ROUTE_PREFIX)
export class AppsGraphController {
  constructor(
    private readonly apps: AppsService,
    private readonly verifier: CallbackVerifier,
  ) {}

  @Post(':appId/subscriptions')
  @HttpCode(200)
  @GraphAuth('app')
  @ApiOkResponse({ schema: { example: { success: true } } })
  async subscribe(
    @CurrentPrincipal() who: AppPrincipal,
    @Param('appId') appId: string,
    @Param('graphVersion') version: string,
    @Body() dto: CreateSubscriptionDto,
  ) {
    assertOwnApp(who, appId);
    const fields = requireMessengerFields(dto.fields, 'fields');
    // Saved only once the callback proves it is the developer's, as Graph does.
    await this.verifier.verify(dto.callback_url, dto.verify_token);
    await this.apps.saveSubscription(
      appId,
      dto.object,
      dto.callback_url,
      fields.map((name) => ({ name, version: version ?? GRAPH_FIELD_VERSION })),
    );
    return { success: true };
  }

  @Get(':appId/subscriptions')
  @GraphAuth('app')
  async list(@CurrentPrincipal() who: AppPrincipal, @Param('appId') appId: string, @Query() _q: GraphTokenQueryDto) {
    assertOwnApp(who, appId);
    const subs = await this.apps.listSubscriptions(appId);
    return {
      data: subs.map((s) => ({ object: s.object, callback_url: s.callbackUrl, fields: s.fields, active: s.active })),
    };
  }

  @Delete(':appId/subscriptions')
  @GraphAuth('app')
  async remove(
    @CurrentPrincipal() who: AppPrincipal,
    @Param('appId') appId: string,
    @Query() q: DeleteSubscriptionQueryDto,
  ) {
    assertOwnApp(who, appId);
    await this.apps.deleteSubscription(appId, q.object);
    return { success: true };
  }
}

function assertOwnApp(who: AppPrincipal, appId: string): void {
  if (who.appId !== appId) throw GraphErrors.permission('(#200) The app access token does not belong to this app');
}

import { Controller, Delete, Get, HttpCode, HttpStatus, Param, Post } from '@nestjs/common';
import { ApiBody, ApiOkResponse, ApiQuery, ApiTags } from '@nestjs/swagger';
import { AuthService } from '../auth/auth.service';
import { CurrentPrincipal, GraphAuth } from '../auth/guards/auth.guards';
import type { AppPrincipal } from '../auth/principal';
import { GraphErrors, GraphException } from '../common/errors/graph.exception';
import { GRAPH_PARAMS_PIPE, GraphParams } from '../common/http/graph-params';
import { DEFAULT_GRAPH_VERSION, GRAPH_ROUTE_PREFIX } from '../common/http/graph-route';
import { requireMessengerFields } from '../pages/messenger-fields';
import { GraphTokenQueryDto } from '../pages/dto/subscribed-apps.dto';
import { AppsService } from './apps.service';
import { CallbackVerifier } from './callback-verifier';
import { AppTokenQueryDto, CreateSubscriptionDto, DeleteSubscriptionQueryDto } from './dto/subscription.dto';

@ApiTags('graph: apps')
@Controller(GRAPH_ROUTE_PREFIX)
export class AppsGraphController {
  constructor(
    private readonly apps: AppsService,
    private readonly verifier: CallbackVerifier,
    private readonly auth: AuthService,
  ) {}

  // The app access token (`{app_id}|{app_secret}`) for the app's id and a live secret, as Graph's client-credentials
  // grant answers it; bots ask for it at start. The secret is compared in constant time against every live secret;
  // a suspended app, or a hosted one (it has no secret), gets none.
  @Get('oauth/access_token')
  @ApiQuery({ name: 'client_id', required: true })
  @ApiQuery({ name: 'client_secret', required: true })
  @ApiQuery({ name: 'grant_type', required: true, enum: ['client_credentials'] })
  @ApiOkResponse({ schema: { example: { access_token: '123456789012345|0123456789abcdef0123456789abcdef', token_type: 'bearer' } } })
  async appToken(@GraphParams(GRAPH_PARAMS_PIPE) q: AppTokenQueryDto) {
    if (!(await this.auth.verifyAppSecret(q.client_id, q.client_secret))) {
      throw new GraphException('Error validating client secret.', 1, HttpStatus.BAD_REQUEST);
    }
    return { access_token: `${q.client_id}|${q.client_secret}`, token_type: 'bearer' };
  }

  // Params in the query string, a form or JSON, as Graph takes them.
  @Post(':appId/subscriptions')
  @HttpCode(200)
  @GraphAuth('app')
  @ApiBody({ type: CreateSubscriptionDto, description: 'Or the same params in the query string' })
  @ApiOkResponse({ schema: { example: { success: true } } })
  async subscribe(
    @CurrentPrincipal() who: AppPrincipal,
    @Param('appId') appId: string,
    @Param('graphVersion') version: string,
    @GraphParams(GRAPH_PARAMS_PIPE) dto: CreateSubscriptionDto,
  ) {
    assertOwnApp(who, appId);
    const fields = requireMessengerFields(dto.fields, 'fields');
    // Saved only once the callback proves it is the developer's, as Graph does.
    await this.verifier.verify(dto.callback_url, dto.verify_token);
    await this.apps.saveSubscription(
      appId,
      dto.object,
      dto.callback_url,
      fields.map((name) => ({ name, version: version ?? DEFAULT_GRAPH_VERSION })),
    );
    return { success: true };
  }

  @Get(':appId/subscriptions')
  @GraphAuth('app')
  @ApiQuery({ name: 'access_token', required: false })
  async list(@CurrentPrincipal() who: AppPrincipal, @Param('appId') appId: string, @GraphParams(GRAPH_PARAMS_PIPE) _q: GraphTokenQueryDto) {
    assertOwnApp(who, appId);
    const subs = await this.apps.listSubscriptions(appId);
    return {
      data: subs.map((s) => ({ object: s.object, callback_url: s.callbackUrl, fields: s.fields, active: s.active })),
    };
  }

  // Without `fields`, the object's subscription (or every one) goes; with them, only those fields, as on Graph.
  @Delete(':appId/subscriptions')
  @GraphAuth('app')
  @ApiQuery({ name: 'access_token', required: false })
  @ApiQuery({ name: 'object', required: false, enum: ['page'] })
  @ApiQuery({ name: 'fields', required: false, description: 'Remove only these fields (a comma list); the subscription goes when none is left' })
  async remove(
    @CurrentPrincipal() who: AppPrincipal,
    @Param('appId') appId: string,
    @GraphParams(GRAPH_PARAMS_PIPE) q: DeleteSubscriptionQueryDto,
  ) {
    assertOwnApp(who, appId);
    if (q.fields === undefined) await this.apps.deleteSubscription(appId, q.object);
    else await this.apps.removeSubscriptionFields(appId, q.object ?? 'page', requireMessengerFields(q.fields, 'fields'));
    return { success: true };
  }
}

function assertOwnApp(who: AppPrincipal, appId: string): void {
  if (who.appId !== appId) throw GraphErrors.permission('(#200) The app access token does not belong to this app');
}

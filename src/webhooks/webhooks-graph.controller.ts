import { Controller, Get, Param } from '@nestjs/common';
import { ApiOkResponse, ApiQuery, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, GraphAuth } from '../auth/guards/auth.guards';
import type { AppPrincipal } from '../auth/principal';
import { GraphErrors } from '../common/errors/graph.exception';
import { GRAPH_PARAMS_PIPE, GraphParams } from '../common/http/graph-params';
import { GRAPH_ROUTE_PREFIX } from '../common/http/graph-route';
import { DeliveryLogService } from './delivery-log.service';
import { PullEventsQueryDto } from './dto/deliveries.dto';

// Pull fallback for bots that cannot take webhooks (Telegram's getUpdates): apps without a page subscription.
@ApiTags('graph: apps')
@Controller(GRAPH_ROUTE_PREFIX)
export class WebhooksGraphController {
  constructor(private readonly log: DeliveryLogService) {}

  @Get(':appId/events')
  @GraphAuth('app')
  @ApiOkResponse({
    description: 'Messenger envelopes oldest first; `after` acknowledges everything served up to that cursor',
  })
  @ApiQuery({ name: 'access_token', required: false })
  @ApiQuery({ name: 'after', required: false, description: 'Acknowledges every event up to and including this cursor' })
  @ApiQuery({ name: 'limit', required: false, schema: { type: 'integer', default: 100, maximum: 1000 } })
  async events(@CurrentPrincipal() who: AppPrincipal, @Param('appId') appId: string, @GraphParams(GRAPH_PARAMS_PIPE) q: PullEventsQueryDto) {
    if (who.appId !== appId) throw GraphErrors.permission('(#200) The app access token does not belong to this app');
    return this.log.pull(appId, q.after, q.limit);
  }
}

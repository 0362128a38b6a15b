import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiOkResponse, ApiQuery, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, GraphAuth } from '../auth/guards/auth.guards';
import type { PagePrincipal } from '../auth/principal';
import { GRAPH_ROUTE_PREFIX } from '../common/http/graph-route';
import { assertOwnPage } from '../pages/pages-graph.controller';
import { MarketingMessagesErrors } from './marketing-messages.errors';
import { MarketingMessagesService } from './marketing-messages.service';

@ApiTags('graph: send api')
@Controller(GRAPH_ROUTE_PREFIX)
export class MarketingMessagesGraphController {
  constructor(private readonly marketing: MarketingMessagesService) {}

  // Meta's "get subscription tokens": the Page's live marketing messages tokens (active, unexpired), oldest first.
  @Get(':pageRef/notification_message_tokens')
  @GraphAuth('page')
  @ApiQuery({ name: 'limit', required: false, description: '1 to 1000, default 100' })
  @ApiQuery({ name: 'after', required: false, description: 'paging.cursors.after of the previous page' })
  @ApiOkResponse({
    schema: {
      example: {
        data: [
          {
            notification_messages_token: 'x4B…43 characters',
            recipient_id: '1254477777772919',
            topic_title: 'Weekly deals',
            payload: 'DEALS',
            notification_messages_timezone: 'UTC',
            creation_timestamp: 1796537138032,
            token_expiry_timestamp: 1828073138032,
          },
        ],
        paging: { cursors: {} },
      },
    },
  })
  list(@CurrentPrincipal() who: PagePrincipal, @Param('pageRef') pageRef: string, @Query() q: Record<string, unknown>) {
    assertOwnPage(who, pageRef);
    const raw = q.limit;
    const limit = raw === undefined ? 100 : typeof raw === 'string' && /^\d{1,4}$/.test(raw) ? Number(raw) : NaN;
    if (!(limit >= 1 && limit <= 1000)) throw MarketingMessagesErrors.tokenListLimit();
    const after = q.after;
    if (after !== undefined && (typeof after !== 'string' || after.length > 200)) throw MarketingMessagesErrors.tokenListCursor();
    return this.marketing.list(who.pageId, limit, after);
  }
}

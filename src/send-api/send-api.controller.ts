import { Body, Controller, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBody, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, GraphAuth } from '../auth/guards/auth.guards';
import type { PagePrincipal } from '../auth/principal';
import { GRAPH_ROUTE_PREFIX } from '../common/http/graph-route';
import { assertOwnPage } from '../pages/pages-graph.controller';
import { SendApiService, SendResult } from './send-api.service';

@ApiTags('graph: send api')
@Controller(GRAPH_ROUTE_PREFIX)
export class SendApiController {
  constructor(private readonly sendApi: SendApiService) {}

  // Graph takes params in the JSON body, the form body (nested params as JSON strings) or the query string.
  @Post(':pageRef/messages')
  @HttpCode(200)
  @GraphAuth('page')
  @ApiBody({
    description: 'recipient {id: PSID}, messaging_type, and message {text | attachment, quick_replies, metadata} or sender_action',
    schema: {
      type: 'object',
      required: ['recipient'],
      properties: {
        recipient: { type: 'object', properties: { id: { type: 'string' } } },
        messaging_type: { type: 'string', enum: ['RESPONSE', 'UPDATE', 'MESSAGE_TAG'] },
        tag: { type: 'string' },
        message: { type: 'object', additionalProperties: true },
        sender_action: { type: 'string', enum: ['typing_on', 'typing_off', 'mark_seen'] },
        notification_type: { type: 'string', enum: ['REGULAR', 'SILENT_PUSH', 'NO_PUSH'] },
      },
    },
  })
  @ApiOkResponse({ schema: { example: { recipient_id: '1254477777772919', message_id: 'm_AG5Hz2Uq7tuwNEhXfYYKj8mJEM' } } })
  send(
    @CurrentPrincipal() who: PagePrincipal,
    @Param('pageRef') pageRef: string,
    @Query() query: Record<string, unknown>,
    @Body() body: unknown,
  ): Promise<SendResult> {
    assertOwnPage(who, pageRef);
    return this.sendApi.send(who, query, body);
  }
}

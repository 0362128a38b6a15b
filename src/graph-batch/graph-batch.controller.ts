import { Body, Controller, HttpCode, Param, Post, Query, Req } from '@nestjs/common';
import { ApiBody, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { GraphAuth } from '../auth/guards/auth.guards';
import { graphParam, graphToken } from '../auth/guards/token-extract';
import { mergeParams } from '../common/http/graph-params';
import { GRAPH_ROUTE_PREFIX } from '../common/http/graph-route';
import { requestOrigin } from '../media/media.service';
import { BatchAnswer, GraphBatchService } from './graph-batch.service';

@ApiTags('graph: batch')
@Controller()
export class GraphBatchController {
  constructor(private readonly batches: GraphBatchService) {}

  // POST / (unversioned, as Graph's root) is rewritten to the default version.
  @Post(GRAPH_ROUTE_PREFIX)
  @HttpCode(200)
  @GraphAuth('page', 'app', 'person')
  @ApiBody({
    description:
      'batch: a JSON array of up to 50 {method: GET|POST|DELETE, relative_url, body?} (body form-encoded, as Graph takes it), run in order; include_headers=false leaves headers out. Operations without their own access_token use this call\'s (and its appsecret_proof). Dependencies as on Graph: name an operation, then use {result=name:$.path} (JSONPath of .key, [n], .* and [*]; several values joined with commas) in a later relative_url or body, or depends_on=name; an operation others depend on answers null when it succeeded unless omit_response_on_success=false; one whose dependency failed is not run (400, code 100).',
    schema: { type: 'object', required: ['batch'], properties: { batch: { type: 'string' }, include_headers: { type: 'boolean' } } },
  })
  @ApiOkResponse({ schema: { example: [{ code: 200, headers: [{ name: 'Content-Type', value: 'application/json; charset=utf-8' }], body: '{"recipient_id":"1254477777772919","message_id":"m_…"}' }] } })
  run(
    @Param('graphVersion') version: string,
    @Query() query: Record<string, unknown>,
    @Body() body: unknown,
    @Req() req: FastifyRequest,
  ): Promise<(BatchAnswer | null)[]> {
    const params = mergeParams(query, body);
    const credentials: Record<string, string> = { access_token: graphToken(req)! };
    for (const name of ['appsecret_proof', 'appsecret_time']) {
      const value = graphParam(req, name);
      if (value) credentials[name] = value;
    }
    return this.batches.run(version, params && typeof params === 'object' ? (params as Record<string, unknown>) : {}, credentials, requestOrigin(req));
  }
}

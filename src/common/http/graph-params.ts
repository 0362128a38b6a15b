import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { GRAPH_TRANSPORT_PARAMS, nestBracketParams, parseFormBody } from '../../../libs/templates';
import { createValidationPipe } from '../errors/validation';
import { isGraphPath } from './graph-route';

// Body params win over query params; a body that is not an object is left for the validator to name. Text
// Postgres can't store is refused by parseGraphParams, which every Send API caller's params go through.
// Bracketed names (`recipient[id]=…`, as PHP and qs clients write nested params) are nested first, as Graph does.
export function mergeParams(query: Record<string, unknown>, body: unknown): unknown {
  const q = query && typeof query === 'object' ? nestBracketParams(query) : {};
  if (body === undefined || body === null || body === '') return { ...q };
  if (typeof body !== 'object' || Array.isArray(body)) return body;
  return { ...q, ...nestBracketParams(body as Record<string, unknown>) };
}

// A Graph route's params, wherever the caller put them (query string, form or JSON body; the body wins), without
// Graph's transport params (access_token, appsecret_proof, appsecret_time, pretty, …): the guard reads those from
// the request itself, and a DTO need not list them. Validate with GRAPH_PARAMS_PIPE:
// `@GraphParams(GRAPH_PARAMS_PIPE) dto: SomeDto`.
export const GraphParams = createParamDecorator((_: unknown, ctx: ExecutionContext): unknown => {
  const req = ctx.switchToHttp().getRequest<FastifyRequest>();
  const merged = mergeParams(req.query as Record<string, unknown>, req.body);
  if (!merged || typeof merged !== 'object' || Array.isArray(merged)) return merged;
  const params = { ...(merged as Record<string, unknown>) };
  for (const name of GRAPH_TRANSPORT_PARAMS) delete params[name];
  return params;
});

export const GRAPH_PARAMS_PIPE = createValidationPipe({ validateCustomDecorators: true });

// The first name of a form body (`recipient%5Bid%5D=`, `message[text]=`, `access_token=`): no JSON text opens so.
const FORM_START = /^[\w.~%+[\]-]+=/;

// A body declared JSON that is a form, on a Graph path, read as the form it is: Graph reads either whatever the
// Content-Type says, and pimax/fb-messenger-php posts http_build_query's output as application/json. Anything
// else (broken JSON included) gets the JSON parser's answer. Repeated names make a list, as the form parser does.
export function formDeclaredAsJson(url: string, body: Buffer): Record<string, unknown> | undefined {
  if (!isGraphPath(url) || !FORM_START.test(body.toString('latin1', 0, 512))) return undefined;
  return parseFormBody(body.toString('utf8'));
}

// Graph's suppress_http_code=1, in the query or the body (the JavaScript SDK posts its params): errors keep their
// {error} body but answer HTTP 200.
export function suppressesHttpCode(query: unknown, body: unknown): boolean {
  const flag = (params: unknown) => {
    const v = params && typeof params === 'object' && !Array.isArray(params) ? (params as Record<string, unknown>).suppress_http_code : undefined;
    return v === '1' || v === 'true' || v === 1 || v === true;
  };
  return flag(query) || flag(body);
}

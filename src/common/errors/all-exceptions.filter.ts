import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { isDatabaseUnavailable } from '../../database/pg-errors';
import { isGraphPath } from '../http/graph-route';
import { DependencyUnavailableError } from './dependency-unavailable';
import { AppException, ErrorDetail } from './app.exception';
import { GraphException } from './graph.exception';
import { RequestValidationError } from './validation';

interface Normalized {
  status: number;
  code: string;
  message: string;
  details?: ErrorDetail[];
  graph?: { code: number; type: string; subcode?: number };
  headers?: Record<string, string>;
}

// Fastify's own errors (body parsing, limits) carry statusCode and a FST_* code.
interface FastifyLikeError {
  statusCode?: number;
  code?: string;
  message?: string;
}

const FASTIFY_CODES: Record<string, string> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'REQUEST.TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'REQUEST.UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'REQUEST.INVALID_CONTENT_LENGTH',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'REQUEST.INVALID_JSON',
  FST_ERR_CTP_INVALID_JSON_BODY: 'REQUEST.INVALID_JSON',
};

const HTTP_CODES: Record<number, string> = {
  400: 'REQUEST.INVALID',
  401: 'AUTH.UNAUTHENTICATED',
  403: 'AUTH.FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  409: 'CONFLICT',
  413: 'REQUEST.TOO_LARGE',
  415: 'REQUEST.UNSUPPORTED_MEDIA_TYPE',
  429: 'RATE_LIMITED',
  503: 'UNAVAILABLE',
};

// Graph codes for our generic statuses, so a Graph client always gets a code it knows.
function graphCodeFor(status: number): number {
  if (status === 401) return 190;
  if (status === 403) return 200;
  if (status === 429) return 613;
  // Graph's "Service temporarily unavailable": retry.
  if (status === 503) return 2;
  if (status >= 500) return 1;
  return 100;
}

export function normalizeError(exception: unknown): Normalized {
  if (exception instanceof RequestValidationError) {
    return { status: 400, code: 'REQUEST.VALIDATION_FAILED', message: exception.message, details: exception.details };
  }
  if (exception instanceof DependencyUnavailableError) {
    return { status: 503, code: exception.code, message: exception.message, headers: { 'retry-after': String(exception.retryAfterSeconds) } };
  }
  if (exception instanceof AppException) {
    const { status, code, message, details, headers } = exception;
    return { status, code, message, details, headers };
  }
  if (exception instanceof GraphException) {
    return {
      status: exception.status,
      code: `GRAPH.${exception.code}`,
      message: exception.message,
      graph: { code: exception.code, type: exception.type, subcode: exception.subcode },
      headers: exception.headers,
    };
  }
  const fe = exception as FastifyLikeError;
  // Fastify's own errors (bad JSON, body too large) keep their precise code, however Nest wrapped them.
  const fastifyCode = fe?.code ?? ((exception as { cause?: FastifyLikeError })?.cause?.code);
  if (fastifyCode && FASTIFY_CODES[fastifyCode]) {
    const status = fe.statusCode ?? (exception instanceof HttpException ? exception.getStatus() : 400);
    return { status, code: FASTIFY_CODES[fastifyCode], message: fe.message ?? 'Bad request' };
  }
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    const res = exception.getResponse();
    const message =
      typeof res === 'string' ? res : String((res as { message?: unknown }).message ?? exception.message);
    // The router's "Cannot GET /path?query" would hand back an access_token sent in the query (to logs, to
    // error trackers): the path is enough.
    return { status, code: HTTP_CODES[status] ?? `HTTP.${status}`, message: message.replace(/^(Cannot [A-Z-]+ [^?\s]*)\?[\s\S]*$/, '$1') };
  }
  if (fe && typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    const code = (fe.code && FASTIFY_CODES[fe.code]) || HTTP_CODES[fe.statusCode] || `HTTP.${fe.statusCode}`;
    return { status: fe.statusCode, code, message: fe.message ?? 'Bad request' };
  }
  // Postgres away or not answering (DATABASE_QUERY_TIMEOUT_MS): the request may be retried. A write that timed out
  // may still have committed; the send routes' idempotency keys make their retries safe.
  if (isDatabaseUnavailable(exception)) {
    return { status: 503, code: 'DATABASE.UNAVAILABLE', message: 'The database is unavailable now: try again', headers: { 'retry-after': '1' } };
  }
  return { status: HttpStatus.INTERNAL_SERVER_ERROR, code: 'INTERNAL', message: 'Internal server error' };
}

export function sendError(exception: unknown, request: FastifyRequest, reply: FastifyReply, logger: Logger): void {
  const n = normalizeError(exception);
  const requestId = String(request.id);
  if (n.status >= 500) {
    // The client gets only the request id; the stack stays in the log, under that id.
    logger.error(`request ${requestId}: ${exception instanceof Error ? exception.stack : String(exception)}`);
  }
  if (n.headers) for (const [k, v] of Object.entries(n.headers)) reply.header(k, v);
  if (isGraphPath(request.url)) {
    const graph = n.graph ?? { code: graphCodeFor(n.status), type: n.status === 401 ? 'OAuthException' : 'OAuthException' };
    const message =
      n.details?.length && !n.graph ? `(#${graph.code}) ${n.details.map((d) => `param ${d.field}: ${d.message}`).join('; ')}` : n.message;
    void reply.status(n.status).send({
      error: {
        message,
        type: graph.type,
        code: graph.code,
        ...(graph.subcode !== undefined ? { error_subcode: graph.subcode } : {}),
        fbtrace_id: requestId,
      },
    });
    return;
  }
  void reply.status(n.status).send({
    statusCode: n.status,
    code: n.code,
    message: n.message,
    ...(n.details ? { details: n.details } : {}),
    requestId,
  });
}

@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  catch(exception: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') return;
    const ctx = host.switchToHttp();
    sendError(exception, ctx.getRequest<FastifyRequest>(), ctx.getResponse<FastifyReply>(), this.logger);
  }
}

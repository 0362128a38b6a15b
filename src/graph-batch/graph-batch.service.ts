import { Injectable } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';
import { GraphException } from '../common/errors/graph.exception';
import { innerRequest } from '../common/http/inner-request';
import { BatchOperation, parseBatch, withCredentials } from './batch-request';

export interface BatchAnswer {
  code: number;
  headers?: { name: string; value: string }[];
  body: string;
}

// Headers an operation's answer passes on (Graph passes a handful; ours are the ones a client acts on).
const PASSED_HEADERS = ['content-type', 'retry-after', 'idempotent-replayed'];

// Graph's batch request: up to 50 calls in one HTTP request, run in order, each answered as if called alone. Each
// operation runs through this process's own HTTP stack (fastify.inject): the same routes, guards, validation and
// rate limits as a direct call; nothing is skipped or shared between operations.
@Injectable()
export class GraphBatchService {
  constructor(private readonly adapter: HttpAdapterHost) {}

  async run(
    version: string,
    params: Record<string, unknown>,
    credentials: Record<string, string>,
    origin: string,
  ): Promise<BatchAnswer[]> {
    if (innerRequest.getStore()) throw new GraphException('(#100) A batch operation cannot be a batch', 100);
    const parsed = parseBatch(params.batch);
    if (!parsed.ok) throw new GraphException(`(#100) ${parsed.message}`, 100);
    const includeHeaders = params.include_headers !== false && params.include_headers !== 'false';
    const answers: BatchAnswer[] = [];
    for (const op of parsed.operations) {
      answers.push(await innerRequest.run({ origin }, () => this.call(version, withCredentials(op, credentials), includeHeaders)));
    }
    return answers;
  }

  private async call(version: string, op: BatchOperation, includeHeaders: boolean): Promise<BatchAnswer> {
    const fastify = this.adapter.httpAdapter.getInstance<FastifyInstance>();
    const payload = op.body === undefined ? undefined : typeof op.body === 'string' ? op.body : JSON.stringify(op.body);
    const url = `/${version}/${op.relativeUrl}`;
    // What the router will see, after URL parsing: still under the version, and not the batch route itself.
    const { pathname } = new URL(url, 'http://inner');
    if (!pathname.startsWith(`/${version}/`) || pathname.length <= version.length + 2) {
      return { code: 400, body: JSON.stringify({ error: { message: '(#100) relative_url must be a relative Graph path', type: 'OAuthException', code: 100 } }) };
    }
    const res = await fastify.inject({
      method: op.method,
      url,
      ...(payload === undefined
        ? {}
        : { payload, headers: { 'content-type': typeof op.body === 'string' ? 'application/x-www-form-urlencoded' : 'application/json' } }),
    });
    const headers = PASSED_HEADERS.flatMap((name) => {
      const value = res.headers[name];
      return value === undefined ? [] : [{ name: name.replace(/(^|-)[a-z]/g, (c) => c.toUpperCase()), value: String(value) }];
    });
    return { code: res.statusCode, ...(includeHeaders ? { headers } : {}), body: res.body };
  }
}

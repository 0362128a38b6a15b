import { Injectable } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';
import { GraphException } from '../common/errors/graph.exception';
import { innerRequest } from '../common/http/inner-request';
import { BatchOperation, EarlierAnswer, parseBatch, resolveReferences, withCredentials } from './batch-request';

export interface BatchAnswer {
  code: number;
  headers?: { name: string; value: string }[];
  body: string;
}

const parseJson = (text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
};

// An operation refused before it ran, in Graph's error shape (code 100).
const graphError = (message: string): BatchAnswer => ({
  code: 400,
  body: JSON.stringify({ error: { message: `(#100) ${message}`, type: 'OAuthException', code: 100 } }),
});

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
  ): Promise<(BatchAnswer | null)[]> {
    if (innerRequest.getStore()) throw new GraphException('(#100) A batch operation cannot be a batch', 100);
    const parsed = parseBatch(params.batch);
    if (!parsed.ok) throw new GraphException(`(#100) ${parsed.message}`, 100);
    const includeHeaders = params.include_headers !== false && params.include_headers !== 'false';
    const answers: (BatchAnswer | null)[] = [];
    // Named answers, each read as JSON once however many references use it.
    const named = new Map<string, EarlierAnswer>();
    const waitedFor = new Set(parsed.operations.flatMap((op) => op.dependsOn));
    for (const op of parsed.operations) {
      const resolved = resolveReferences(op, named);
      const answer =
        typeof resolved === 'string'
          ? graphError(resolved)
          : await innerRequest.run({ origin }, () => this.call(version, withCredentials(resolved, credentials), includeHeaders));
      if (op.name !== undefined) named.set(op.name, { code: answer.code, json: parseJson(answer.body) });
      // As on Graph, an operation others depend on is left out when it succeeded, unless it asks to be kept.
      const omitted = op.name !== undefined && waitedFor.has(op.name) && op.omitResponseOnSuccess && answer.code >= 200 && answer.code < 300;
      answers.push(omitted ? null : answer);
    }
    return answers;
  }

  private async call(version: string, op: BatchOperation, includeHeaders: boolean): Promise<BatchAnswer> {
    const fastify = this.adapter.httpAdapter.getInstance<FastifyInstance>();
    const payload = op.body === undefined ? undefined : typeof op.body === 'string' ? op.body : JSON.stringify(op.body);
    const url = `/${version}/${op.relativeUrl}`;
    // What the router will see, after URL parsing: still under the version, and not the batch route itself.
    const { pathname } = new URL(url, 'http://inner');
    if (!pathname.startsWith(`/${version}/`) || pathname.length <= version.length + 2) return graphError('relative_url must be a relative Graph path');
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

import type { FastifyRequest } from 'fastify';
import { multipartLeadFields } from '../../common/http/multipart-lead';

export function bearerToken(req: FastifyRequest): string | undefined {
  const h = req.headers.authorization;
  if (typeof h !== 'string') return undefined;
  const m = /^Bearer\s+(\S+)$/i.exec(h);
  return m?.[1];
}

// Graph takes the token as `access_token` in the query or body (a multipart body's leading fields included, once
// the guard has read them), or in the Authorization header as `Bearer` or Graph's older `OAuth` scheme.
export function graphToken(req: FastifyRequest): string | undefined {
  const q = (req.query as Record<string, unknown> | undefined)?.access_token;
  if (typeof q === 'string' && q) return q;
  const b = bodyParam(req, 'access_token');
  if (typeof b === 'string') return b;
  const h = req.headers.authorization;
  return typeof h === 'string' ? /^(?:Bearer|OAuth)\s+(\S+)$/i.exec(h)?.[1] : undefined;
}

// A Graph transport param (appsecret_proof, …) from the query or the body; '' when given but not a string.
export function graphParam(req: FastifyRequest, name: string): string | undefined {
  const q = (req.query as Record<string, unknown> | undefined)?.[name];
  const v = q ?? bodyParam(req, name);
  if (v === undefined) return undefined;
  return typeof v === 'string' ? v : '';
}

function bodyParam(req: FastifyRequest, name: string): unknown {
  const body = req.body as Record<string, unknown> | undefined;
  const fields = body && typeof body === 'object' && !Array.isArray(body) ? body : multipartLeadFields(req);
  return fields && Object.hasOwn(fields, name) ? fields[name] : undefined;
}

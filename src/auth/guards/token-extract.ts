import type { FastifyRequest } from 'fastify';

export function bearerToken(req: FastifyRequest): string | undefined {
  const h = req.headers.authorization;
  if (typeof h !== 'string') return undefined;
  const m = /^Bearer\s+(\S+)$/i.exec(h);
  return m?.[1];
}

// Graph takes the token as `access_token` in the query or body, or in the Authorization header as `Bearer` or
// Graph's older `OAuth` scheme.
export function graphToken(req: FastifyRequest): string | undefined {
  const q = (req.query as Record<string, unknown> | undefined)?.access_token;
  if (typeof q === 'string' && q) return q;
  const body = req.body as Record<string, unknown> | undefined;
  if (body && typeof body === 'object' && !Array.isArray(body) && typeof body.access_token === 'string') {
    return body.access_token;
  }
  const h = req.headers.authorization;
  return typeof h === 'string' ? /^(?:Bearer|OAuth)\s+(\S+)$/i.exec(h)?.[1] : undefined;
}

// A Graph transport param (appsecret_proof, …) from the query or the body; '' when given but not a string.
export function graphParam(req: FastifyRequest, name: string): string | undefined {
  const q = (req.query as Record<string, unknown> | undefined)?.[name];
  const body = req.body as Record<string, unknown> | undefined;
  const b = body && typeof body === 'object' && !Array.isArray(body) ? body[name] : undefined;
  const v = q ?? b;
  if (v === undefined) return undefined;
  return typeof v === 'string' ? v : '';
}

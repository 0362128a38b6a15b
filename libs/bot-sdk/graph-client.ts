import { createHmac, randomUUID } from 'node:crypto';
import { fetch } from 'undici';

export interface GraphClientOptions {
  // The Page access token the Send API and the other Page calls use.
  pageAccessToken: string;
  // With it every call carries appsecret_proof (HMAC-SHA256 of the token), as apps that require it must.
  appSecret?: string;
  // https://graph.facebook.com on Messenger; your Switchboard's base URL here.
  graphUrl?: string;
  version?: string;
  // Tries after the first for a call that failed transiently (network, 5xx, 429, Graph codes 1, 2, 4, 613). A read
  // is always tried again; a write only when it was refused unread (a rate limit, a connection refused) or when it
  // is idempotent on a server that honours Idempotency-Key (see honoursIdempotencyKey).
  retries?: number;
  // Whether the server stores a POST once per Idempotency-Key: Switchboard does, the Messenger Platform does not.
  // Default: true unless graphUrl is graph.facebook.com.
  honoursIdempotencyKey?: boolean;
  // First backoff; doubled each try, and never shorter than the server's Retry-After.
  backoffMs?: number;
  timeoutMs?: number;
}

/** Graph's error envelope as an exception: `{error: {message, type, code, error_subcode, fbtrace_id}}`. */
/** Graph's subcode (with code 4) for a marketing message sent on a token before its cooldown ended. */
export const MARKETING_COOLDOWN_SUBCODE = 2018354;

export class GraphApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code: number | undefined,
    readonly subcode: number | undefined,
    readonly type: string | undefined,
    readonly fbtraceId: string | undefined,
    readonly retryAfterMs: number | undefined,
  ) {
    super(message);
    this.name = 'GraphApiError';
  }

  // Worth another try: the platform, not the request, was the problem. Not a marketing message sent too soon on its
  // token (4 / 2018354): the token's cooldown is hours, not a backoff's worth.
  get transient(): boolean {
    if (this.code === 4 && this.subcode === MARKETING_COOLDOWN_SUBCODE) return false;
    return this.status === 0 || this.status >= 500 || this.status === 429 || [1, 2, 4, 613].includes(this.code ?? -1);
  }

  // Refused before anything was done: a rate limit, or a connection that was never made.
  get refused(): boolean {
    return this.status === 429 || [4, 613].includes(this.code ?? -1) || this.connectionRefused;
  }

  connectionRefused = false;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A small Graph client for a Page: JSON in, JSON out, Graph's errors as GraphApiError. A POST carries one
 * `Idempotency-Key` for all its tries; an idempotent one is repeated after a failure that may have landed only on a
 * server that honours the key (Switchboard; Graph ignores the header).
 */
export class GraphClient {
  private readonly base: string;
  private readonly retries: number;
  private readonly backoffMs: number;
  private readonly timeoutMs: number;

  constructor(private readonly options: GraphClientOptions) {
    this.base = `${(options.graphUrl ?? 'https://graph.facebook.com').replace(/\/+$/, '')}/${options.version ?? 'v25.0'}`;
    this.retries = options.retries ?? 2;
    this.backoffMs = options.backoffMs ?? 200;
    this.timeoutMs = options.timeoutMs ?? 20_000;
    this.honoursKey = options.honoursIdempotencyKey ?? !/^https:\/\/graph\.facebook\.com\/?$/.test(options.graphUrl ?? 'https://graph.facebook.com');
  }

  private readonly honoursKey: boolean;

  get<T = Record<string, unknown>>(path: string, params: Record<string, string | number | undefined> = {}): Promise<T> {
    return this.call<T>('GET', path, params);
  }

  /**
   * `idempotent`: the call may be repeated under its Idempotency-Key (a Send API send); other writes (handover
   * calls, say) are repeated only when refused unread.
   */
  post<T = Record<string, unknown>>(path: string, body: Record<string, unknown>, opts: { idempotencyKey?: string; idempotent?: boolean } = {}): Promise<T> {
    return this.call<T>('POST', path, {}, body, opts.idempotencyKey ?? randomUUID(), opts.idempotent ?? false);
  }

  delete<T = Record<string, unknown>>(path: string): Promise<T> {
    return this.call<T>('DELETE', path, {});
  }

  private async call<T>(
    method: string,
    path: string,
    params: Record<string, string | number | undefined>,
    body?: Record<string, unknown>,
    idempotencyKey?: string,
    idempotent = false,
  ): Promise<T> {
    const url = new URL(`${this.base}/${path.replace(/^\/+/, '')}`);
    for (const [k, v] of Object.entries(params)) if (v !== undefined) url.searchParams.set(k, String(v));
    if (this.options.appSecret) {
      url.searchParams.set('appsecret_proof', createHmac('sha256', this.options.appSecret).update(this.options.pageAccessToken).digest('hex'));
    }
    const headers: Record<string, string> = { authorization: `Bearer ${this.options.pageAccessToken}`, accept: 'application/json' };
    if (body) headers['content-type'] = 'application/json';
    if (idempotencyKey) headers['idempotency-key'] = idempotencyKey;
    for (let attempt = 0; ; attempt++) {
      let error: GraphApiError;
      try {
        const res = await fetch(url, { method, headers, body: body ? JSON.stringify(body) : undefined, signal: AbortSignal.timeout(this.timeoutMs) });
        const text = await res.text();
        let json: unknown;
        try {
          json = text ? JSON.parse(text) : {};
        } catch {
          json = undefined;
        }
        if (res.ok && json !== undefined) return json as T;
        const e = (json as { error?: Record<string, unknown> } | undefined)?.error ?? {};
        const retryAfter = Number(res.headers.get('retry-after'));
        error = new GraphApiError(
          typeof e.message === 'string' ? e.message : `HTTP ${res.status}`,
          res.status,
          typeof e.code === 'number' ? e.code : undefined,
          typeof e.error_subcode === 'number' ? e.error_subcode : undefined,
          typeof e.type === 'string' ? e.type : undefined,
          typeof e.fbtrace_id === 'string' ? e.fbtrace_id : undefined,
          Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : undefined,
        );
      } catch (err) {
        // No answer at all (refused, reset, timed out): status 0.
        error = new GraphApiError((err as Error).message, 0, undefined, undefined, undefined, undefined, undefined);
        error.connectionRefused = /ECONNREFUSED/.test(String((err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message));
      }
      // A write that may have been done is repeated only where the key makes a repeat harmless.
      const repeatable = method === 'GET' || error.refused || (idempotent && this.honoursKey);
      if (!error.transient || !repeatable || attempt >= this.retries) throw error;
      await sleep(Math.max(this.backoffMs * 2 ** attempt, error.retryAfterMs ?? 0));
    }
  }
}

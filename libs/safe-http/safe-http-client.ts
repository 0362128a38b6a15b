import { performance } from 'node:perf_hooks';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { Agent, type Dispatcher } from 'undici';
import { connectToKey, connectToTable, type ConnectToRule } from './connect-to';
import { classifyError, SafeHttpError } from './errors';
import { createSafeConnector, type ConnectTarget } from './safe-connector';
import { assertSafeUrl, checkUrlShape, type LookupFunction, type SafeUrlResult } from './url-policy';

/** Options of {@link SafeHttpClient}. All limits are per client; one client per use (webhooks, media, ...). */
export interface SafeHttpClientOptions {
  /** CIDRs reachable despite the refusal list, e.g. `['127.0.0.0/8', '::1/128']` in development and tests. */
  allowlist?: readonly string[];
  /** Also allow `http:` URLs (default: `https:` only). */
  allowInsecureHttp?: boolean;
  /** Limit for the DNS lookup and for each TCP+TLS handshake. Default 10 000 ms. */
  connectTimeoutMs?: number;
  /** Default total deadline of a request (connect, headers and body). Default 15 000 ms. */
  timeoutMs?: number;
  /** Default cap on the response body kept in memory. Default 65 536 bytes. */
  maxResponseBytes?: number;
  /** Most connections open at once to one origin (scheme, host, port). Default 10. */
  connectionsPerOrigin?: number;
  /** How long an idle keep-alive connection is kept, unless the server says less. Default 4 000 ms. */
  keepAliveTimeoutMs?: number;
  /** Extra CA certificates to trust besides Node's roots (e.g. a private CA in development). */
  ca?: string | Buffer | Array<string | Buffer>;
  /** Static routes like curl's `--connect-to`, see {@link ConnectToRule}; their addresses are still checked. */
  connectTo?: readonly ConnectToRule[];
  /** Resolver (default: `dns.lookup` with `all: true`). Injected in tests. */
  lookup?: LookupFunction;
  /** Called with each checked address just before a socket is opened; throwing abandons the attempt. */
  onConnect?: (target: ConnectTarget) => void;
}

/** One request. */
export interface SafeHttpRequest {
  /** Default `GET`. */
  method?: string;
  url: string | URL;
  headers?: Readonly<Record<string, string>>;
  body?: string | Buffer | Uint8Array;
  /** Total deadline for this request (connect, headers and body); overrides the client default. */
  timeoutMs?: number;
  /** Body cap for this request; overrides the client default. */
  maxResponseBytes?: number;
  /**
   * What to do with a body over the cap: `'truncate'` (default) keeps the first bytes and sets `truncated`;
   * `'error'` rejects with `body_too_large` (for media, where a partial file is useless).
   */
  onOversize?: 'truncate' | 'error';
  /** Aborts the request; it then rejects with code `aborted`. */
  signal?: AbortSignal;
}

/** A response. A 3xx is returned as it is: redirects are never followed. */
export interface SafeHttpResponse {
  status: number;
  /** Lower-case names; repeated headers as arrays. */
  headers: Record<string, string | string[] | undefined>;
  /** At most `maxResponseBytes`; reading stops there and the rest is discarded (the connection is closed). */
  body: Buffer;
  truncated: boolean;
  /** From the call to the end of the body (or the cut-off), DNS and connect included. */
  latencyMs: number;
}

/** A response whose body is still arriving: see {@link SafeHttpClient.stream}. */
export interface SafeHttpStreamResponse {
  status: number;
  /** Lower-case names; repeated headers as arrays. */
  headers: Record<string, string | string[] | undefined>;
  /**
   * The body as it arrives. Errors with a {@link SafeHttpError}: `body_too_large` past `maxResponseBytes`,
   * `timeout` when the request's deadline passes, `connection_reset`, ... Destroying it closes the connection.
   */
  body: Readable;
  /** From the call to the headers. */
  latencyMs: number;
}

/**
 * The SSRF-safe HTTP client for every outgoing call (webhook delivery, callback verification, media fetches).
 *
 * Every new connection resolves the host, refuses private and special addresses (unless allow-listed) and
 * connects to the checked address. Redirects are never followed. Each request has a total deadline and a body
 * cap. Failures reject with a {@link SafeHttpError} whose `code` is stable.
 */
export class SafeHttpClient {
  private readonly agent: Agent;
  private readonly allowInsecureHttp: boolean;
  private readonly allowlist: readonly string[];
  private readonly lookup?: LookupFunction;
  private readonly routes: ReadonlyMap<string, ConnectToRule>;
  private readonly connectTimeoutMs: number;
  private readonly timeoutMs: number;
  private readonly maxResponseBytes: number;
  private closed = false;

  /** @throws TypeError on an invalid allow-list entry or limit. */
  constructor(options: SafeHttpClientOptions = {}) {
    this.allowInsecureHttp = options.allowInsecureHttp ?? false;
    this.allowlist = options.allowlist ?? [];
    this.lookup = options.lookup;
    this.routes = connectToTable(options.connectTo);
    this.connectTimeoutMs = positive(options.connectTimeoutMs ?? 10_000, 'connectTimeoutMs');
    this.timeoutMs = positive(options.timeoutMs ?? 15_000, 'timeoutMs');
    this.maxResponseBytes = nonNegative(options.maxResponseBytes ?? 65_536, 'maxResponseBytes');
    const keepAlive = positive(options.keepAliveTimeoutMs ?? 4_000, 'keepAliveTimeoutMs');
    this.agent = new Agent({
      connect: createSafeConnector({
        allowlist: this.allowlist,
        lookup: options.lookup,
        connectTimeoutMs: this.connectTimeoutMs,
        ca: options.ca,
        connectTo: options.connectTo,
        onConnect: options.onConnect,
      }),
      connections: positive(options.connectionsPerOrigin ?? 10, 'connectionsPerOrigin'),
      keepAliveTimeout: keepAlive,
      // A server's Keep-Alive hint may shorten the idle lifetime, never lengthen it.
      keepAliveMaxTimeout: keepAlive,
    });
  }

  /** {@link assertSafeUrl} with this client's policy: for checking a callback URL when it is registered. */
  assertSafeUrl(url: string | URL): Promise<SafeUrlResult> {
    let lookup = this.lookup;
    const parsed = URL.canParse(String(url)) ? new URL(String(url)) : undefined;
    const route =
      parsed &&
      this.routes.get(connectToKey(parsed.hostname, Number(parsed.port) || (parsed.protocol === 'http:' ? 80 : 443)));
    // A routed host is checked at the address it will be connected to, without a lookup.
    if (route) lookup = async () => [{ address: route.address, family: route.address.includes(':') ? 6 : 4 }];
    return assertSafeUrl(url, {
      allowlist: this.allowlist,
      allowInsecureHttp: this.allowInsecureHttp,
      lookup,
      lookupTimeoutMs: this.connectTimeoutMs,
    });
  }

  /**
   * Sends one request. Never follows redirects, never retries.
   *
   * @throws SafeHttpError with `code` `invalid_url`, `ssrf_blocked`, `dns`, `connect_refused`, `unreachable`,
   *   `timeout`, `tls`, `connection_reset`, `protocol`, `body_too_large`, `aborted`, `invalid_request`, `closed`
   *   or `unknown`.
   */
  async request(req: SafeHttpRequest): Promise<SafeHttpResponse> {
    const started = performance.now();
    const { url, timeoutMs, maxBytes, deadline } = this.begin(req);
    const exchange = this.exchange(url, req, deadline.signal, timeoutMs, maxBytes, started);
    exchange.catch(() => undefined); // the race below reports it, or the stop already did
    try {
      return await Promise.race([exchange, deadline.stopped]);
    } catch (err) {
      throw classifyError(err, url.host);
    } finally {
      deadline.clear();
    }
  }

  /**
   * Like {@link request}, but answers as soon as the headers are in and hands the body over as a stream, so a
   * large body can go to disk without being held in memory. The same policy, deadline (it keeps running while the
   * body streams) and cap: past `maxResponseBytes` the body errors with `body_too_large` (a declared
   * Content-Length over the cap rejects at once). The caller must read the body to its end or destroy it.
   */
  async stream(req: Omit<SafeHttpRequest, 'onOversize'>): Promise<SafeHttpStreamResponse> {
    const started = performance.now();
    const { url, timeoutMs, maxBytes, deadline } = this.begin(req);
    const opening = this.agent.request({
      origin: url.origin,
      path: `${url.pathname}${url.search}`,
      method: (req.method ?? 'GET').toUpperCase() as Dispatcher.HttpMethod,
      headers: req.headers as Record<string, string> | undefined,
      body: req.body,
      signal: deadline.signal,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    opening.catch(() => undefined);
    let res: Dispatcher.ResponseData;
    try {
      res = await Promise.race([opening, deadline.stopped]);
    } catch (err) {
      deadline.clear();
      throw classifyError(err, url.host);
    }
    const source = res.body;
    const oversize = () =>
      new SafeHttpError('body_too_large', `response from ${url.host} is larger than ${maxBytes} bytes`);
    const declared = Number(res.headers['content-length']);
    if (Number.isFinite(declared) && declared > maxBytes) {
      source.on('error', () => undefined).destroy();
      deadline.clear();
      throw oversize();
    }
    let size = 0;
    const body = new Transform({
      transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback) {
        size += chunk.length;
        if (size > maxBytes) cb(oversize());
        else cb(null, chunk);
      },
    });
    // The deadline's reason (timeout, aborted) wins over undici's own abort error.
    source.on('error', (err) => body.destroy(classifyError(deadline.signal.reason ?? err, url.host)));
    body.once('close', () => {
      deadline.clear();
      // A consumer that gives up (or a cap reached) hangs up instead of draining the rest.
      if (!source.destroyed) source.destroy();
    });
    source.pipe(body);
    return { status: res.statusCode, headers: res.headers, body, latencyMs: performance.now() - started };
  }

  // Checks shared by request() and stream(), and one stop for both the deadline and the caller's signal: undici
  // is aborted, and `stopped` rejects at once even if undici is still waiting on a lookup or handshake.
  private begin(req: SafeHttpRequest) {
    if (this.closed) throw new SafeHttpError('closed', 'the HTTP client is closed');
    const shape = checkUrlShape(req.url, this.allowInsecureHttp);
    if (!shape.ok) throw new SafeHttpError('invalid_url', shape.message, { reason: shape.reason });
    const url = shape.url;
    const timeoutMs = positive(req.timeoutMs ?? this.timeoutMs, 'timeoutMs');
    const maxBytes = nonNegative(req.maxResponseBytes ?? this.maxResponseBytes, 'maxResponseBytes');
    if (req.signal?.aborted) throw new SafeHttpError('aborted', 'the request was aborted');

    const controller = new AbortController();
    let stop!: (err: SafeHttpError) => void;
    const stopped = new Promise<never>((_, reject) => {
      stop = (err) => {
        controller.abort(err);
        reject(err);
      };
    });
    stopped.catch(() => undefined); // after the race is settled nobody listens
    const timer = setTimeout(
      () => stop(new SafeHttpError('timeout', `no complete response from ${url.host} within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const onAbort = () => stop(new SafeHttpError('aborted', 'the request was aborted'));
    req.signal?.addEventListener('abort', onAbort, { once: true });
    const clear = () => {
      clearTimeout(timer);
      req.signal?.removeEventListener('abort', onAbort);
    };
    return { url, timeoutMs, maxBytes, deadline: { signal: controller.signal, stopped, clear } };
  }

  private async exchange(
    url: URL,
    req: SafeHttpRequest,
    signal: AbortSignal,
    timeoutMs: number,
    maxBytes: number,
    started: number,
  ): Promise<SafeHttpResponse> {
    const res = await this.agent.request({
      origin: url.origin,
      path: `${url.pathname}${url.search}`,
      method: (req.method ?? 'GET').toUpperCase() as Dispatcher.HttpMethod,
      headers: req.headers as Record<string, string> | undefined,
      body: req.body,
      signal,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });

    const oversizeError = () =>
      new SafeHttpError('body_too_large', `response from ${url.host} is larger than ${maxBytes} bytes`);
    const declared = Number(res.headers['content-length']);
    if (req.onOversize === 'error' && Number.isFinite(declared) && declared > maxBytes) {
      // Destroying an unread undici body emits an abort error; nobody is left to hear it.
      res.body.on('error', () => undefined).destroy();
      throw oversizeError();
    }

    const chunks: Buffer[] = [];
    let size = 0;
    let truncated = false;
    // Leaving the loop early destroys the body stream, which closes the connection: the rest is never read.
    for await (const chunk of res.body as AsyncIterable<Buffer>) {
      const room = maxBytes - size;
      if (chunk.length > room) {
        if (req.onOversize === 'error') throw oversizeError();
        chunks.push(chunk.subarray(0, room));
        size = maxBytes;
        truncated = true;
        break;
      }
      chunks.push(chunk);
      size += chunk.length;
    }
    return {
      status: res.statusCode,
      headers: res.headers,
      body: Buffer.concat(chunks, size),
      truncated,
      latencyMs: performance.now() - started,
    };
  }

  /** Waits for running requests, then closes every pooled connection. Later requests fail with `closed`. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.agent.close();
  }
}

function positive(value: number, name: string): number {
  if (!Number.isFinite(value) || value <= 0) throw new TypeError(`${name} must be a positive number`);
  return value;
}

function nonNegative(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 0) throw new TypeError(`${name} must be a non-negative integer`);
  return value;
}

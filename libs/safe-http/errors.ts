/**
 * Why an outgoing request failed. Stable: the webhook worker stores it as the retry reason.
 *
 * - `invalid_url`: not an absolute http(s) URL, a scheme the policy refuses, or credentials in it.
 * - `ssrf_blocked`: the host is, or resolves to, an address the policy refuses.
 * - `dns`: the hostname does not resolve, or the lookup failed or timed out.
 * - `connect_refused`: nothing listens on that port (TCP RST).
 * - `unreachable`: no route to the address.
 * - `timeout`: connecting, or the whole exchange (headers and body), exceeded its deadline.
 * - `tls`: the TLS handshake failed (certificate invalid, expired, wrong host, protocol mismatch).
 * - `connection_reset`: the server closed the connection before the response was complete.
 * - `protocol`: the server answered something that is not valid HTTP/1.1.
 * - `body_too_large`: the response exceeded the cap and the request asked for an error instead of truncation.
 * - `aborted`: the caller's `signal` aborted the request.
 * - `invalid_request`: the request itself is malformed (e.g. a forbidden header).
 * - `closed`: the client was closed.
 * - `unknown`: anything else; `cause` holds the original error.
 */
export type SafeHttpErrorCode =
  | 'invalid_url'
  | 'ssrf_blocked'
  | 'dns'
  | 'connect_refused'
  | 'unreachable'
  | 'timeout'
  | 'tls'
  | 'connection_reset'
  | 'protocol'
  | 'body_too_large'
  | 'aborted'
  | 'invalid_request'
  | 'closed'
  | 'unknown';

/**
 * The finer reason of a policy refusal, shared by {@link SafeHttpError.reason} and `assertSafeUrl`.
 */
export type UrlRefusalReason =
  | 'url.invalid'
  | 'url.unsupported_scheme'
  | 'url.insecure_scheme'
  | 'url.credentials'
  | 'dns.not_found'
  | 'dns.failed'
  | 'dns.timeout'
  | 'ssrf.private_address';

/** The one error type `SafeHttpClient.request` rejects with. */
export class SafeHttpError extends Error {
  override readonly name = 'SafeHttpError';
  /** Coarse, stable classification. */
  readonly code: SafeHttpErrorCode;
  /** Set for policy refusals (`invalid_url`, `ssrf_blocked`, `dns`). */
  readonly reason?: UrlRefusalReason;
  /** The refused or unreachable address, when one is known. */
  readonly address?: string;

  constructor(
    code: SafeHttpErrorCode,
    message: string,
    options: { reason?: UrlRefusalReason; address?: string; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    if (options.reason) this.reason = options.reason;
    if (options.address) this.address = options.address;
  }
}

const TLS_CODES = new Set([
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_REVOKED',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'HOSTNAME_MISMATCH',
]);

function codeOf(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : '';
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Maps any error thrown while talking to a server (node:net, node:tls, undici) onto a {@link SafeHttpError}.
 */
export function classifyError(err: unknown, target = 'server'): SafeHttpError {
  if (err instanceof SafeHttpError) return err;
  const code = codeOf(err);
  const detail = describe(err);
  const make = (c: SafeHttpErrorCode, message: string) => new SafeHttpError(c, message, { cause: err });
  switch (code) {
    case 'UND_ERR_CONNECT_TIMEOUT':
      return make('timeout', `connecting to ${target} timed out`);
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
      return make('timeout', `${target} did not answer in time`);
    case 'ECONNREFUSED':
      return make('connect_refused', `${target} refused the connection`);
    case 'ENETUNREACH':
    case 'EHOSTUNREACH':
    case 'EADDRNOTAVAIL':
    case 'EAFNOSUPPORT':
      return make('unreachable', `${target} is unreachable (${code})`);
    case 'ECONNRESET':
    case 'EPIPE':
    case 'UND_ERR_SOCKET':
      return make('connection_reset', `${target} closed the connection before the response was complete`);
    case 'ENOTFOUND':
    case 'EAI_NONAME':
    case 'EAI_AGAIN':
      return make('dns', `${target} could not be resolved (${code})`);
    case 'UND_ERR_ABORTED':
    case 'ABORT_ERR':
      return make('aborted', 'the request was aborted');
    case 'UND_ERR_CLOSED':
    case 'UND_ERR_DESTROYED':
      return make('closed', 'the HTTP client is closed');
    case 'UND_ERR_INVALID_ARG':
    case 'UND_ERR_NOT_SUPPORTED':
    case 'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH':
    case 'ERR_INVALID_ARG_TYPE':
    case 'ERR_INVALID_ARG_VALUE':
    case 'ERR_INVALID_HTTP_TOKEN':
    case 'ERR_INVALID_CHAR':
      return make('invalid_request', `invalid request: ${detail}`);
    case 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH':
    case 'UND_ERR_RES_EXCEEDED_MAX_SIZE':
    case 'UND_ERR_INFO':
      return make('protocol', `invalid response from ${target}: ${detail}`);
  }
  if (code.startsWith('HPE_')) return make('protocol', `invalid HTTP response from ${target}: ${detail}`);
  if (TLS_CODES.has(code) || code.startsWith('ERR_TLS_') || code.startsWith('ERR_SSL_')) {
    return make('tls', `TLS handshake with ${target} failed: ${detail}`);
  }
  if ((err as { library?: unknown } | null)?.library === 'SSL routines') {
    return make('tls', `TLS handshake with ${target} failed: ${detail}`);
  }
  return make('unknown', `request to ${target} failed: ${detail}`);
}

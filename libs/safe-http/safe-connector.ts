import { isIP } from 'node:net';
import { createSecureContext, rootCertificates } from 'node:tls';
import { buildConnector } from 'undici';
import { AddressPolicy } from './address-policy';
import { connectToKey, connectToTable, type ConnectToRule } from './connect-to';
import { classifyError, SafeHttpError } from './errors';
import { resolveChecked, systemLookup, type LookupFunction } from './url-policy';

/** The checked address a connection is about to be opened to. */
export interface ConnectTarget {
  protocol: 'http:' | 'https:';
  /** The URL's host, used for SNI and certificate checks. */
  hostname: string;
  /** The checked address the socket connects to. */
  address: string;
  family: 4 | 6;
  /** The port the socket connects to (a `connectTo` route's `toPort`). */
  port: number;
}

/** Options of {@link createSafeConnector}. */
export interface SafeConnectorOptions {
  /** CIDRs reachable despite the refusal list, e.g. `['127.0.0.0/8']` in development. */
  allowlist?: readonly string[];
  /** Resolver (default: `dns.lookup` with `all: true`). */
  lookup?: LookupFunction;
  /** Limit for the lookup and for each TCP+TLS handshake. Default 10 000 ms. */
  connectTimeoutMs?: number;
  /** Extra CA certificates to trust for TLS besides Node's roots (e.g. a private CA in development). */
  ca?: string | Buffer | Array<string | Buffer>;
  /**
   * Static routes (curl's `--connect-to`): a matching `host:port` connects to the rule's address and port without
   * a lookup. The address is checked like any other; the host name stays the TLS servername.
   */
  connectTo?: readonly ConnectToRule[];
  /**
   * Called with each checked address just before its socket is opened, for logs and metrics. If it throws,
   * the attempt is abandoned without opening a socket and the error fails the request.
   */
  onConnect?: (target: ConnectTarget) => void;
}

// Errors after which the next resolved address is worth trying (dual-stack hosts without a v6 route, ...).
const TRY_NEXT = new Set(['ECONNREFUSED', 'ENETUNREACH', 'EHOSTUNREACH', 'EADDRNOTAVAIL', 'EAFNOSUPPORT']);

/**
 * An undici `connect` function that resolves the hostname itself, refuses the connection if any address is
 * disallowed, and connects to exactly the address it checked (the hostname stays the TLS servername and the
 * `Host` header). Checking at connect time, on every new connection, defeats DNS rebinding. IP-literal URLs are
 * checked the same way.
 *
 * Use it as `new Agent({ connect: createSafeConnector(options) })`; errors are {@link SafeHttpError}s.
 */
export function createSafeConnector(options: SafeConnectorOptions = {}): buildConnector.connector {
  const policy = new AddressPolicy({ allowlist: options.allowlist });
  const lookup = options.lookup ?? systemLookup;
  const timeoutMs = options.connectTimeoutMs ?? 10_000;
  const routes = connectToTable(options.connectTo);
  // Extra CAs are added to Node's roots (tls' own `ca` would replace them), in one context built once.
  const extraCa = options.ca === undefined ? [] : Array.isArray(options.ca) ? options.ca : [options.ca];
  const secureContext = extraCa.length ? createSecureContext({ ca: [...rootCertificates, ...extraCa] }) : undefined;
  const base = buildConnector({ timeout: timeoutMs, ...(secureContext ? { secureContext } : {}) });

  return (connectOptions, callback) => {
    const { hostname } = connectOptions;
    const protocol = connectOptions.protocol === 'https:' ? 'https:' : 'http:';
    const port = Number(connectOptions.port) || (protocol === 'https:' ? 443 : 80);
    const target = hostname.includes(':') ? `[${hostname}]:${port}` : `${hostname}:${port}`;
    const route = isIP(hostname) ? undefined : routes.get(connectToKey(hostname, port));
    const toPort = route?.toPort ?? port;
    let done = false;
    const finish: buildConnector.Callback = (...args) => {
      if (done) return;
      done = true;
      callback(...args);
    };

    resolveChecked(route?.address ?? hostname, policy, lookup, timeoutMs)
      .then((resolved) => {
        if (!resolved.ok) {
          const code = resolved.reason.startsWith('dns.') ? 'dns' : 'ssrf_blocked';
          // A route's address is the operator's: not named to whoever chose the URL.
          const message = route
            ? `${target} is routed to ${resolved.range ? `an address in a refused range (${resolved.range})` : `an address refused: ${resolved.reason}`}`
            : resolved.message;
          finish(new SafeHttpError(code, message, { reason: resolved.reason, address: resolved.address }), null);
          return;
        }
        const attempt = (index: number): void => {
          const { address } = resolved.addresses[index];
          try {
            options.onConnect?.({ protocol, hostname, address, family: isIP(address) === 6 ? 6 : 4, port: toPort });
          } catch (err) {
            finish(err instanceof Error ? err : new Error(String(err)), null);
            return;
          }
          base(
            {
              ...connectOptions,
              hostname: address,
              port: String(toPort),
              // SNI and certificate checks use the name, never the pinned address.
              servername: connectOptions.servername || (isIP(hostname) ? undefined : hostname),
            },
            (err, socket) => {
              if (err) {
                const code = (err as { code?: string }).code ?? '';
                if (TRY_NEXT.has(code) && index + 1 < resolved.addresses.length) return attempt(index + 1);
                const safe = classifyError(err, `${target} (${address}${route ? `:${toPort}` : ''})`);
                finish(new SafeHttpError(safe.code, safe.message, { address, cause: err }), null);
                return;
              }
              finish(null, socket as NonNullable<typeof socket>);
            },
          );
        };
        attempt(0);
      })
      // finish() ignores a second call, so this also covers a synchronous throw in the branch above.
      .catch((err: unknown) => finish(classifyError(err, target), null));
  };
}

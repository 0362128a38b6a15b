import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { AddressPolicy, type BlockedRange } from './address-policy';
import type { UrlRefusalReason } from './errors';

/** One address a hostname resolves to. */
export interface LookupAddress {
  address: string;
  family: number;
}

/**
 * Resolves a hostname to all its addresses. The default is `dns.lookup(hostname, { all: true })` (the system
 * resolver, /etc/hosts included); inject another for tests or a custom resolver.
 */
export type LookupFunction = (hostname: string) => Promise<readonly LookupAddress[]>;

/** The system resolver, as used by default. */
export const systemLookup: LookupFunction = (hostname) => dnsLookup(hostname, { all: true });

/** What a URL and its addresses are checked against. */
export interface SafeUrlPolicy {
  /** CIDRs reachable despite the refusal list, e.g. `['127.0.0.0/8', '::1/128']` in development. */
  allowlist?: readonly string[];
  /** Also allow `http:` (default: `https:` only). */
  allowInsecureHttp?: boolean;
  /** Resolver to use (default {@link systemLookup}). */
  lookup?: LookupFunction;
  /** How long a lookup may take. Default 10 000 ms. */
  lookupTimeoutMs?: number;
}

/** A refusal: `reason` is a stable code, `message` names the host and, if any, the offending address. */
export interface UrlRefusal {
  ok: false;
  reason: UrlRefusalReason;
  message: string;
  address?: string;
  range?: BlockedRange;
}

/** The result of {@link assertSafeUrl}. */
export type SafeUrlResult = { ok: true; url: URL; addresses: string[] } | UrlRefusal;

function refuse(reason: UrlRefusalReason, message: string, extra: Partial<UrlRefusal> = {}): UrlRefusal {
  return { ok: false, reason, message, ...extra };
}

// The checks that need no network: parseable, http(s), no credentials.
export function checkUrlShape(input: string | URL, allowInsecureHttp: boolean): { ok: true; url: URL } | UrlRefusal {
  let url: URL;
  try {
    url = typeof input === 'string' ? new URL(input) : new URL(input.href);
  } catch {
    return refuse('url.invalid', 'not an absolute URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    return refuse('url.unsupported_scheme', `scheme ${url.protocol} is not supported; use https:`);
  }
  if (url.protocol === 'http:' && !allowInsecureHttp) {
    return refuse('url.insecure_scheme', 'only https: URLs are allowed');
  }
  if (url.username !== '' || url.password !== '') {
    return refuse('url.credentials', 'URLs must not carry credentials');
  }
  if (url.hostname === '') return refuse('url.invalid', 'the URL has no host');
  return { ok: true, url };
}

/** The hostname of a URL as a resolver or connector wants it: IPv6 literals without brackets. */
export function bareHostname(url: URL): string {
  const host = url.hostname;
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

const NOT_FOUND = new Set(['ENOTFOUND', 'ENODATA', 'EAI_NONAME', 'EAI_NODATA']);

// Resolves (unless an IP literal), then refuses if ANY address is refused: a host that mixes public and
// private addresses is misconfigured or hostile, and picking the public one invites flapping.
export async function resolveChecked(
  hostname: string,
  policy: AddressPolicy,
  lookup: LookupFunction,
  timeoutMs: number,
): Promise<{ ok: true; addresses: LookupAddress[] } | UrlRefusal> {
  let addresses: LookupAddress[];
  if (isIP(hostname)) {
    addresses = [{ address: hostname, family: isIP(hostname) }];
  } else {
    let timer: NodeJS.Timeout | undefined;
    try {
      const timeout = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), timeoutMs);
      });
      const result = await Promise.race([lookup(hostname), timeout]);
      if (result === 'timeout') return refuse('dns.timeout', `lookup of ${hostname} took longer than ${timeoutMs} ms`);
      addresses = [...result];
    } catch (err) {
      const code = String((err as { code?: unknown } | null)?.code ?? '');
      if (NOT_FOUND.has(code)) return refuse('dns.not_found', `${hostname} does not resolve (${code})`);
      return refuse('dns.failed', `lookup of ${hostname} failed${code ? ` (${code})` : ''}`);
    } finally {
      clearTimeout(timer);
    }
    if (addresses.length === 0) return refuse('dns.not_found', `${hostname} has no addresses`);
  }
  for (const { address } of addresses) {
    if (!isIP(address)) return refuse('dns.failed', `lookup of ${hostname} returned a non-address: ${address}`);
    const verdict = policy.check(address);
    if (!verdict.allowed) {
      const via = verdict.embedded ? `, embedded ${verdict.embedded.via} ${verdict.embedded.ipv4}` : '';
      // A hostname's refusal doesn't name the address it resolved to: the message reaches whoever chose the URL (a
      // script, a bot's callback or upload), and would map the internal network for them. The result keeps it.
      const message =
        address === hostname
          ? `${address} is in ${verdict.cidr} (${verdict.range}${via})`
          : `${hostname} resolves to an address in a refused range (${verdict.range})`;
      return refuse('ssrf.private_address', message, {
        address,
        range: verdict.range,
      });
    }
  }
  return { ok: true, addresses };
}

/**
 * Registration-time check of a callback URL: absolute `https:` (or `http:` with `allowInsecureHttp`), no
 * credentials, and every address the host resolves to is allowed by the address policy. A refused URL is a
 * result, not an exception; only an invalid `allowlist` (a configuration error) throws a TypeError.
 *
 * This is not enough on its own (DNS can change after the check): `SafeHttpClient` checks again at connect time.
 *
 * @returns `{ ok: true, url, addresses }`, or `{ ok: false, reason, message }` with a stable `reason` such as
 *   `url.insecure_scheme`, `url.credentials`, `dns.not_found` or `ssrf.private_address`.
 */
export async function assertSafeUrl(url: string | URL, policy: SafeUrlPolicy = {}): Promise<SafeUrlResult> {
  const shape = checkUrlShape(url, policy.allowInsecureHttp ?? false);
  if (!shape.ok) return shape;
  const resolved = await resolveChecked(
    bareHostname(shape.url),
    new AddressPolicy({ allowlist: policy.allowlist }),
    policy.lookup ?? systemLookup,
    policy.lookupTimeoutMs ?? 10_000,
  );
  if (!resolved.ok) return resolved;
  return { ok: true, url: shape.url, addresses: resolved.addresses.map((a) => a.address) };
}

import { isIP } from 'node:net';

/**
 * A static route for one `host:port`, like curl's `--connect-to HOST:PORT:ADDRESS:PORT`: a request to
 * `https://host:port/` connects to `address:toPort` without a DNS lookup. The URL, the `Host` header, TLS SNI and
 * the certificate check keep `host`; the address is still checked by the address policy (so a private address
 * needs the allow-list).
 */
export interface ConnectToRule {
  /** The URL's host name, lower case. */
  host: string;
  /** The URL's port (443 for an `https:` URL without one). */
  port: number;
  /** An IP literal (IPv6 without brackets). */
  address: string;
  /** The port connected to. */
  toPort: number;
}

const HOST_NAME = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;

function port(raw: string, entry: string): number {
  const n = /^\d{1,5}$/.test(raw) ? Number(raw) : NaN;
  if (!(n >= 1 && n <= 65535))
    throw new TypeError(`connect-to entry ${JSON.stringify(entry)}: ${JSON.stringify(raw)} is not a port`);
  return n;
}

/**
 * Parses a comma-separated list of `host:port:address:port` entries (IPv6 addresses in brackets, e.g.
 * `api.example.com:443:[::1]:8443`). The address must be an IP literal: a static route never resolves a name.
 *
 * @throws TypeError naming the malformed entry.
 */
export function parseConnectTo(spec: string): ConnectToRule[] {
  const rules: ConnectToRule[] = [];
  const seen = new Set<string>();
  for (const entry of spec
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const m = /^([^:[\]]+):(\d+):(\[[^\]]+\]|[^:[\]]+):(\d+)$/.exec(entry);
    if (!m) throw new TypeError(`connect-to entry ${JSON.stringify(entry)} is not host:port:address:port`);
    const host = m[1].toLowerCase();
    if (!HOST_NAME.test(host) || isIP(host))
      throw new TypeError(`connect-to entry ${JSON.stringify(entry)}: ${m[1]} is not a host name`);
    const address = m[3].startsWith('[') ? m[3].slice(1, -1) : m[3];
    if (isIP(address) === 0 || m[3].startsWith('[') !== (isIP(address) === 6)) {
      throw new TypeError(`connect-to entry ${JSON.stringify(entry)}: ${m[3]} is not an IP address (IPv6 in brackets)`);
    }
    const rule = { host, port: port(m[2], entry), address, toPort: port(m[4], entry) };
    const key = connectToKey(rule.host, rule.port);
    if (seen.has(key)) throw new TypeError(`connect-to entry ${JSON.stringify(entry)}: ${key} is routed twice`);
    seen.add(key);
    rules.push(rule);
  }
  return rules;
}

export const connectToKey = (host: string, port: number) => `${host.toLowerCase()}:${port}`;

/** Rules by `host:port`, for lookups at connect time. */
export function connectToTable(rules: readonly ConnectToRule[] = []): ReadonlyMap<string, ConnectToRule> {
  const table = new Map<string, ConnectToRule>();
  for (const r of rules) {
    if (isIP(r.address) === 0)
      throw new TypeError(`connect-to address ${JSON.stringify(r.address)} is not an IP address`);
    table.set(connectToKey(r.host, r.port), r);
  }
  return table;
}

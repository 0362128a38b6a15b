import { BlockList, isIPv4, isIPv6 } from 'node:net';

/** Why an address is not reachable from the platform. */
export type BlockedRange =
  | 'unspecified'
  | 'this_network'
  | 'loopback'
  | 'private'
  | 'cgnat'
  | 'link_local'
  | 'metadata'
  | 'multicast'
  | 'broadcast'
  | 'benchmarking'
  | 'documentation'
  | 'reserved'
  | 'unique_local'
  | 'site_local'
  | 'discard'
  | 'teredo'
  | 'nat64_local'
  | 'srv6';

/** How an IPv4 address was carried inside an IPv6 one. */
export type Ipv4Embedding = 'ipv4_mapped' | 'nat64' | '6to4';

/** The verdict on one address. */
export type AddressVerdict =
  | { allowed: true; address: string; family: 4 | 6; allowlisted: boolean }
  | {
      allowed: false;
      address: string;
      family: 4 | 6;
      range: BlockedRange;
      /** The special-purpose block that matched, e.g. `10.0.0.0/8`. */
      cidr: string;
      /** Set when the refusal comes from an IPv4 address embedded in an IPv6 one. */
      embedded?: { ipv4: string; via: Ipv4Embedding };
    };

type Rule = { cidr: string; range: BlockedRange; list: BlockList };

function rule(cidr: string, range: BlockedRange): Rule {
  const list = new BlockList();
  const [net, bits] = cidr.split('/');
  list.addSubnet(net, Number(bits), isIPv4(net) ? 'ipv4' : 'ipv6');
  return { cidr, range, list };
}

// IANA special-purpose registries plus cloud metadata; the first match names the range, so narrow
// blocks come before the wider ones that contain them.
const IPV4_RULES: readonly Rule[] = [
  rule('0.0.0.0/8', 'this_network'), // 0.0.0.0 reaches the local host on Linux
  rule('10.0.0.0/8', 'private'),
  rule('100.100.100.200/32', 'metadata'), // Alibaba Cloud
  rule('100.64.0.0/10', 'cgnat'),
  rule('127.0.0.0/8', 'loopback'),
  rule('169.254.169.254/32', 'metadata'), // AWS, GCP, Azure, OCI, DigitalOcean
  rule('169.254.0.0/16', 'link_local'),
  rule('168.63.129.16/32', 'metadata'), // Azure wire server: a public address that only the platform answers
  rule('172.16.0.0/12', 'private'),
  rule('192.0.0.0/24', 'reserved'), // IETF protocol assignments
  rule('192.0.2.0/24', 'documentation'),
  rule('192.88.99.0/24', 'reserved'), // deprecated 6to4 relay anycast
  rule('192.168.0.0/16', 'private'),
  rule('198.18.0.0/15', 'benchmarking'),
  rule('198.51.100.0/24', 'documentation'),
  rule('203.0.113.0/24', 'documentation'),
  rule('224.0.0.0/4', 'multicast'),
  rule('255.255.255.255/32', 'broadcast'),
  rule('240.0.0.0/4', 'reserved'),
];

const IPV6_RULES: readonly Rule[] = [
  rule('::/128', 'unspecified'),
  rule('::1/128', 'loopback'),
  rule('64:ff9b:1::/48', 'nat64_local'), // local-use NAT64: the embedding is site-specific
  rule('100::/64', 'discard'),
  rule('fd00:ec2::254/128', 'metadata'), // AWS IMDS over IPv6
  rule('fc00::/7', 'unique_local'),
  rule('fe80::/10', 'link_local'),
  rule('fec0::/10', 'site_local'),
  rule('ff00::/8', 'multicast'),
  rule('5f00::/16', 'srv6'),
  rule('2001::/32', 'teredo'),
  rule('2001:2::/48', 'benchmarking'),
  rule('2001:db8::/32', 'documentation'),
  rule('3fff::/20', 'documentation'),
  rule('2001::/23', 'reserved'), // IETF protocol assignments (ORCHID, AMT, ...)
];

// Everything outside global unicast 2000::/3 is unallocated or special (IPv4-compatible ::/96, SIIT, ...).
const IPV6_GLOBAL_UNICAST = rule('2000::/3', 'reserved');

/** Parses an IPv6 address (optionally with a `%zone`) into its eight 16-bit groups; `null` if invalid. */
export function parseIpv6(address: string): number[] | null {
  const bare = address.split('%')[0];
  if (!isIPv6(bare)) return null;
  let text = bare.toLowerCase();
  let tail: number[] = [];
  if (text.includes('.')) {
    // A trailing dotted quad stands for the last two groups.
    const lastColon = text.lastIndexOf(':');
    const o = text
      .slice(lastColon + 1)
      .split('.')
      .map(Number);
    tail = [(o[0] << 8) | o[1], (o[2] << 8) | o[3]];
    text = text.slice(0, lastColon + 1);
    if (!text.endsWith('::')) text = text.slice(0, -1);
  }
  const groupsOf = (part: string) => (part === '' ? [] : part.split(':').map((g) => parseInt(g, 16)));
  const halves = text.split('::');
  let groups: number[];
  if (halves.length === 2) {
    const head = groupsOf(halves[0]);
    const rest = groupsOf(halves[1]);
    const fill = 8 - head.length - rest.length - tail.length;
    groups = [...head, ...new Array<number>(Math.max(fill, 0)).fill(0), ...rest, ...tail];
  } else {
    groups = [...groupsOf(text), ...tail];
  }
  return groups.length === 8 && groups.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff) ? groups : null;
}

function ipv4From(high: number, low: number): string {
  return `${high >> 8}.${high & 0xff}.${low >> 8}.${low & 0xff}`;
}

/**
 * The IPv4 address carried inside an IPv6 one: IPv4-mapped `::ffff:a.b.c.d`, NAT64 `64:ff9b::a.b.c.d`
 * or 6to4 `2002:aabb:ccdd::`. `null` for any other address.
 */
export function embeddedIpv4(address: string): { ipv4: string; via: Ipv4Embedding } | null {
  const g = parseIpv6(address);
  if (!g) return null;
  const zeros = (from: number, to: number) => g.slice(from, to).every((x) => x === 0);
  if (zeros(0, 5) && g[5] === 0xffff) return { ipv4: ipv4From(g[6], g[7]), via: 'ipv4_mapped' };
  if (g[0] === 0x64 && g[1] === 0xff9b && zeros(2, 6)) return { ipv4: ipv4From(g[6], g[7]), via: 'nat64' };
  if (g[0] === 0x2002) return { ipv4: ipv4From(g[1], g[2]), via: '6to4' };
  return null;
}

function match(rules: readonly Rule[], address: string, family: 'ipv4' | 'ipv6'): Rule | undefined {
  return rules.find((r) => r.list.check(address, family));
}

/**
 * Classifies an IP address against the built-in refusal list (private, loopback, link-local, CGNAT, cloud
 * metadata, multicast, broadcast, reserved, benchmarking, documentation, ULA, Teredo, SRv6, ...). IPv4
 * addresses embedded in IPv4-mapped, NAT64 and 6to4 addresses are classified as the IPv4 they carry.
 *
 * @returns `null` when the address is public, else the matching range.
 * @throws TypeError when `address` is not an IP address.
 */
export function classifyAddress(
  address: string,
): { range: BlockedRange; cidr: string; embedded?: { ipv4: string; via: Ipv4Embedding } } | null {
  if (isIPv4(address)) {
    const hit = match(IPV4_RULES, address, 'ipv4');
    return hit ? { range: hit.range, cidr: hit.cidr } : null;
  }
  const bare = address.split('%')[0];
  if (!isIPv6(bare)) throw new TypeError(`not an IP address: ${address}`);
  const embedded = embeddedIpv4(bare);
  if (embedded) {
    const inner = match(IPV4_RULES, embedded.ipv4, 'ipv4');
    return inner ? { range: inner.range, cidr: inner.cidr, embedded } : null;
  }
  const hit = match(IPV6_RULES, bare, 'ipv6');
  if (hit) return { range: hit.range, cidr: hit.cidr };
  if (!IPV6_GLOBAL_UNICAST.list.check(bare, 'ipv6')) return { range: 'reserved', cidr: 'outside 2000::/3' };
  return null;
}

/** Options of {@link AddressPolicy}. */
export interface AddressPolicyOptions {
  /**
   * CIDRs (or single addresses) reachable despite the refusal list, e.g. `['127.0.0.0/8', '::1/128']` for
   * development and tests. An IPv4 entry also admits the IPv4-mapped form `::ffff:a.b.c.d` of its addresses.
   */
  allowlist?: readonly string[];
}

/**
 * Decides whether the platform may open a connection to an address: the built-in refusal list
 * ({@link classifyAddress}) minus the configured allow-list.
 */
export class AddressPolicy {
  private readonly allow = new BlockList();
  private readonly hasAllowlist: boolean;

  /** @throws TypeError when an allow-list entry is not an address or CIDR. */
  constructor(options: AddressPolicyOptions = {}) {
    const entries = options.allowlist ?? [];
    for (const entry of entries) {
      const [net, bits, extra] = entry.trim().split('/');
      const family = isIPv4(net) ? 'ipv4' : isIPv6(net) ? 'ipv6' : null;
      const max = family === 'ipv4' ? 32 : 128;
      const prefix = bits === undefined ? max : Number(bits);
      if (!family || extra !== undefined || !/^\d+$/.test(bits ?? String(max)) || prefix > max) {
        throw new TypeError(`invalid allowlist entry: ${entry}`);
      }
      this.allow.addSubnet(net, prefix, family);
    }
    this.hasAllowlist = entries.length > 0;
  }

  /**
   * Checks one address.
   * @throws TypeError when `address` is not an IP address.
   */
  check(address: string): AddressVerdict {
    const family = isIPv4(address) ? 4 : 6;
    const blocked = classifyAddress(address);
    if (this.hasAllowlist && this.isAllowlisted(address, family)) {
      return { allowed: true, address, family, allowlisted: true };
    }
    if (!blocked) return { allowed: true, address, family, allowlisted: false };
    return { allowed: false, address, family, ...blocked };
  }

  private isAllowlisted(address: string, family: 4 | 6): boolean {
    if (family === 4) return this.allow.check(address, 'ipv4');
    const bare = address.split('%')[0];
    if (this.allow.check(bare, 'ipv6')) return true;
    // Only the IPv4-mapped form is the same host; NAT64 and 6to4 go through a gateway.
    const embedded = embeddedIpv4(bare);
    return embedded?.via === 'ipv4_mapped' && this.allow.check(embedded.ipv4, 'ipv4');
  }
}

import fc from 'fast-check';
import { BlockList } from 'node:net';
import { AddressPolicy, classifyAddress, embeddedIpv4, parseIpv6, type BlockedRange } from './index';

const REFUSED: Array<[string, BlockedRange]> = [
  // IPv4
  ['0.0.0.0', 'this_network'],
  ['0.255.255.255', 'this_network'],
  ['10.0.0.1', 'private'],
  ['10.255.255.255', 'private'],
  ['100.64.0.1', 'cgnat'],
  ['100.127.255.255', 'cgnat'],
  ['100.100.100.200', 'metadata'],
  ['127.0.0.1', 'loopback'],
  ['127.255.255.254', 'loopback'],
  ['169.254.0.1', 'link_local'],
  ['169.254.169.254', 'metadata'],
  ['168.63.129.16', 'metadata'],
  ['172.16.0.1', 'private'],
  ['172.31.255.255', 'private'],
  ['192.0.0.8', 'reserved'],
  ['192.0.2.10', 'documentation'],
  ['192.88.99.1', 'reserved'],
  ['192.168.1.1', 'private'],
  ['198.18.0.1', 'benchmarking'],
  ['198.19.255.255', 'benchmarking'],
  ['198.51.100.7', 'documentation'],
  ['203.0.113.9', 'documentation'],
  ['224.0.0.1', 'multicast'],
  ['239.255.255.250', 'multicast'],
  ['240.0.0.1', 'reserved'],
  ['255.255.255.254', 'reserved'],
  ['255.255.255.255', 'broadcast'],
  // IPv6
  ['::', 'unspecified'],
  ['::1', 'loopback'],
  ['0:0:0:0:0:0:0:1', 'loopback'],
  ['fc00::1', 'unique_local'],
  ['fdff:ffff::1', 'unique_local'],
  ['fd00:ec2::254', 'metadata'],
  ['fe80::1', 'link_local'],
  ['fe80::1%eth0', 'link_local'],
  ['febf::1', 'link_local'],
  ['fec0::1', 'site_local'],
  ['ff02::1', 'multicast'],
  ['ff05::1:3', 'multicast'],
  ['100::1', 'discard'],
  ['5f00::1', 'srv6'],
  ['2001::1', 'teredo'],
  ['2001:0:4136:e378:8000:63bf:3fff:fdd2', 'teredo'],
  ['2001:2::1', 'benchmarking'],
  ['2001:db8::1', 'documentation'],
  ['3fff::1', 'documentation'],
  ['2001:10::1', 'reserved'],
  ['2001:1ff::1', 'reserved'],
  ['64:ff9b:1::1', 'nat64_local'],
  ['::127.0.0.1', 'reserved'], // deprecated IPv4-compatible form
  ['::ffff:0:7f00:1', 'reserved'], // SIIT IPv4-translated
  ['1000::1', 'reserved'], // not global unicast
  ['4000::1', 'reserved'],
  // IPv4 embedded in IPv6
  ['::ffff:127.0.0.1', 'loopback'],
  ['::ffff:7f00:1', 'loopback'],
  ['::FFFF:10.1.2.3', 'private'],
  ['0:0:0:0:0:ffff:a9fe:a9fe', 'metadata'],
  ['::ffff:0.0.0.0', 'this_network'],
  ['64:ff9b::10.0.0.1', 'private'],
  ['64:ff9b::a9fe:a9fe', 'metadata'],
  ['64:ff9b::7f00:1', 'loopback'],
  ['2002:7f00:1::', 'loopback'],
  ['2002:c0a8:101::1', 'private'],
  ['2002:a9fe:a9fe:1234::1', 'metadata'],
  ['2002:6440:1::', 'cgnat'],
];

const PUBLIC = [
  '8.8.8.8',
  '1.1.1.1',
  '93.184.216.34',
  '9.255.255.255',
  '11.0.0.0',
  '100.63.255.255',
  '100.128.0.0',
  '126.255.255.255',
  '128.0.0.0',
  '169.253.255.255',
  '169.255.0.0',
  '172.15.255.255',
  '172.32.0.0',
  '192.0.1.0',
  '192.167.255.255',
  '192.169.0.0',
  '198.17.255.255',
  '198.20.0.0',
  '223.255.255.255',
  '2606:4700:4700::1111',
  '2a00:1450:4001:81b::200e',
  '2001:200::1',
  '2001:4860:4860::8888',
  '2620:fe::fe',
  '3ffe::1',
  '::ffff:8.8.8.8',
  '::ffff:808:808',
  '64:ff9b::8.8.8.8',
  '64:ff9b::5db8:d822',
  '2002:808:808::1',
];

describe('classifyAddress', () => {
  it.each(REFUSED)('refuses %s as %s', (address, range) => {
    expect(classifyAddress(address)?.range).toBe(range);
  });

  it.each(PUBLIC)('lets %s through', (address) => {
    expect(classifyAddress(address)).toBeNull();
  });

  it('says which IPv4 address an IPv6 one carried', () => {
    expect(classifyAddress('64:ff9b::a9fe:a9fe')).toEqual({
      range: 'metadata',
      cidr: '169.254.169.254/32',
      embedded: { ipv4: '169.254.169.254', via: 'nat64' },
    });
  });

  it.each(['', 'localhost', '1.2.3', '256.0.0.1', '1::2::3', '[::1]', '127.0.0.1/8'])('throws on %j', (input) => {
    expect(() => classifyAddress(input)).toThrow(TypeError);
  });
});

describe('parseIpv6 and embeddedIpv4', () => {
  it('expands compressed and dotted forms', () => {
    expect(parseIpv6('::')).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    expect(parseIpv6('1::')).toEqual([1, 0, 0, 0, 0, 0, 0, 0]);
    expect(parseIpv6('::ffff:1.2.3.4')).toEqual([0, 0, 0, 0, 0, 0xffff, 0x0102, 0x0304]);
    expect(parseIpv6('1:2:3:4:5:6:7.8.9.10')).toEqual([1, 2, 3, 4, 5, 6, 0x0708, 0x090a]);
    expect(parseIpv6('fe80::1%eth0')).toEqual([0xfe80, 0, 0, 0, 0, 0, 0, 1]);
    expect(parseIpv6('1.2.3.4')).toBeNull();
  });

  it('agrees with net.BlockList on every IPv6 address', () => {
    fc.assert(
      fc.property(fc.ipV6(), (address) => {
        const groups = parseIpv6(address);
        expect(groups).not.toBeNull();
        const expanded = groups!.map((g) => g.toString(16)).join(':');
        const exact = new BlockList();
        exact.addAddress(address, 'ipv6');
        expect(exact.check(expanded, 'ipv6')).toBe(true);
        const other = [...groups!];
        other[7] ^= 1;
        expect(exact.check(other.map((g) => g.toString(16)).join(':'), 'ipv6')).toBe(false);
      }),
    );
  });

  it('finds the IPv4 address of each embedding, and none elsewhere', () => {
    expect(embeddedIpv4('::ffff:c000:280')).toEqual({ ipv4: '192.0.2.128', via: 'ipv4_mapped' });
    expect(embeddedIpv4('64:ff9b::c000:280')).toEqual({ ipv4: '192.0.2.128', via: 'nat64' });
    expect(embeddedIpv4('2002:c000:280::')).toEqual({ ipv4: '192.0.2.128', via: '6to4' });
    expect(embeddedIpv4('2606:4700::1111')).toBeNull();
    expect(embeddedIpv4('64:ff9b:1::c000:280')).toBeNull();
  });

  it('classifies every embedded IPv4 address as the address itself', () => {
    fc.assert(
      fc.property(fc.ipV4(), (ipv4) => {
        const [a, b, c, d] = ipv4.split('.').map(Number);
        const high = ((a << 8) | b).toString(16);
        const low = ((c << 8) | d).toString(16);
        const direct = classifyAddress(ipv4)?.range ?? null;
        for (const form of [`::ffff:${ipv4}`, `64:ff9b::${high}:${low}`, `2002:${high}:${low}::1`]) {
          expect(classifyAddress(form)?.range ?? null).toBe(direct);
        }
      }),
    );
  });
});

describe('AddressPolicy', () => {
  it('refuses by default and reports the range', () => {
    expect(new AddressPolicy().check('127.0.0.1')).toEqual({
      allowed: false,
      address: '127.0.0.1',
      family: 4,
      range: 'loopback',
      cidr: '127.0.0.0/8',
    });
    expect(new AddressPolicy().check('8.8.8.8')).toEqual({
      allowed: true,
      address: '8.8.8.8',
      family: 4,
      allowlisted: false,
    });
  });

  it('lets allow-listed ranges through, IPv4-mapped forms included', () => {
    const policy = new AddressPolicy({ allowlist: ['127.0.0.0/8', '::1/128', '10.1.2.3'] });
    for (const address of ['127.0.0.1', '127.9.9.9', '::1', '::ffff:127.0.0.1', '10.1.2.3']) {
      expect(policy.check(address)).toMatchObject({ allowed: true, allowlisted: true });
    }
    for (const address of ['10.1.2.4', '169.254.169.254', '64:ff9b::7f00:1', '2002:7f00:1::', 'fe80::1']) {
      expect(policy.check(address).allowed).toBe(false);
    }
  });

  it.each(['10.0.0.0/33', '::1/129', 'localhost', '10.0.0.0/8/1', '10.0.0.0/x', '10.0.0.0/', ''])(
    'rejects the allow-list entry %j',
    (entry) => {
      expect(() => new AddressPolicy({ allowlist: [entry] })).toThrow(TypeError);
    },
  );
});

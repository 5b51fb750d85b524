import { blockedRangeOf, inCidr, parseCidr, parseIp } from './ip-address';

describe('blockedRangeOf', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['169.254.169.254', 'cloud metadata'],
    ['169.254.10.1', 'link-local'],
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'unspecified'],
    ['100.64.0.1', 'carrier-grade NAT'],
    ['100.127.255.255', 'carrier-grade NAT'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['240.0.0.1', 'reserved (documentation, benchmarking or future use)'],
    ['::1', 'loopback'],
    ['::', 'unspecified'],
    ['fe80::1', 'link-local'],
    ['febf:ffff::1', 'link-local'],
    ['fc00::1', 'unique-local'],
    ['fd12:3456::1', 'unique-local'],
    ['fd00:ec2::254', 'cloud metadata'],
    ['ff02::1', 'multicast'],
    ['::ffff:127.0.0.1', 'IPv4-mapped loopback'],
    ['::ffff:7f00:1', 'IPv4-mapped loopback'],
    ['::ffff:a9fe:a9fe', 'IPv4-mapped cloud metadata'],
    ['::ffff:10.0.0.1', 'IPv4-mapped private'],
    ['64:ff9b::192.168.0.1', 'NAT64 private'],
    // What a block list forgot (#21): only unicast passes, so these need no entry of their own.
    ['64:ff9b:1::808:808', 'NAT64'],
    ['64:ff9b:1:ffff::1', 'NAT64'],
    ['2001::1', 'Teredo'],
    ['2001:0:4136:e378:8000:63bf:3fff:fdd2', 'Teredo'],
    ['100::1', 'discard-only'],
    ['100::ffff:ffff:ffff:ffff', 'discard-only'],
    ['2001:db8::1', 'reserved (documentation, benchmarking or future use)'],
    ['3fff::1', 'reserved (documentation, benchmarking or future use)'],
    ['192.0.2.1', 'reserved (documentation, benchmarking or future use)'],
    ['198.51.100.7', 'reserved (documentation, benchmarking or future use)'],
    ['203.0.113.200', 'reserved (documentation, benchmarking or future use)'],
    ['198.18.0.1', 'reserved (documentation, benchmarking or future use)'],
    ['::ffff:192.0.2.1', 'IPv4-mapped reserved (documentation, benchmarking or future use)'],
    ['::ffff:100.64.0.1', 'IPv4-mapped carrier-grade NAT'],
    ['::ffff:0.0.0.0', 'IPv4-mapped unspecified'],
    ['2002:7f00:1::', '6to4'],
    ['2002:808:808::1', '6to4'],
    ['2001:2::1', 'benchmarking'],
    ['fec0::1', 'site-local'],
    ['::7f00:1', 'outside global unicast'],
    ['4000::1', 'outside global unicast'],
    ['[::1]', 'loopback'],
    ['fe80::1%eth0', 'link-local'],
  ])('refuses %s as %s', (address, rule) => {
    expect(blockedRangeOf(address)?.rule).toBe(rule);
  });

  it.each([
    '8.8.8.8',
    '1.1.1.1',
    '172.32.0.1',
    '172.15.255.255',
    '100.128.0.1',
    '169.255.0.1',
    '11.0.0.1',
    '2606:4700::1111',
    '::ffff:8.8.8.8',
    '::ffff:808:808',
    '64:ff9b::8.8.8.8',
    '2a00:1450:4001:82b::200e',
  ])('lets the public address %s through', (address) => {
    expect(blockedRangeOf(address)).toBeNull();
  });

  it('refuses what is not an address at all', () => {
    expect(blockedRangeOf('localhost')?.rule).toBe('not an IP address');
  });
});

describe('parseIp and parseCidr', () => {
  it('expands IPv6 shorthand', () => {
    expect(parseIp('1::2')?.toNormalizedString()).toBe('1:0:0:0:0:0:0:2');
  });

  it('reads only canonical literals, not the classful forms a resolver treats as names', () => {
    expect(parseIp('127.1')).toBeNull();
    expect(parseIp('[fe80::1%eth0]')?.toString()).toBe('fe80::1');
  });

  it('rejects malformed CIDRs', () => {
    expect(parseCidr('10.0.0.0/33')).toBeNull();
    expect(parseCidr('10.0.0.0/x')).toBeNull();
    expect(parseCidr('example.com')).toBeNull();
    expect(parseCidr('fd00::/8')?.[1]).toBe(8);
    expect(parseCidr('10.1.2.3')?.[1]).toBe(32);
  });

  it('matches an IPv4-mapped address against an IPv4 CIDR', () => {
    expect(inCidr(parseIp('::ffff:10.1.2.3')!, parseCidr('10.1.0.0/16')!)).toBe(true);
    expect(inCidr(parseIp('10.2.0.1')!, parseCidr('10.1.0.0/16')!)).toBe(false);
  });
});

import { blockedRangeOf, parseCidr, parseIp } from './ip-address';

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
    ['0.0.0.0', 'this network'],
    ['0.1.2.3', 'this network'],
    ['100.64.0.1', 'carrier-grade NAT'],
    ['100.127.255.255', 'carrier-grade NAT'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['255.255.255.255', 'reserved/broadcast'],
    ['::1', 'loopback'],
    ['::', 'unspecified'],
    ['fe80::1', 'link-local'],
    ['febf:ffff::1', 'link-local'],
    ['fc00::1', 'unique-local'],
    ['fd12:3456::1', 'unique-local'],
    ['fd00:ec2::254', 'unique-local'],
    ['ff02::1', 'multicast'],
    ['::ffff:127.0.0.1', 'IPv4-mapped loopback'],
    ['::ffff:7f00:1', 'IPv4-mapped loopback'],
    ['::ffff:a9fe:a9fe', 'IPv4-mapped cloud metadata'],
    ['::ffff:10.0.0.1', 'IPv4-mapped private'],
    ['64:ff9b::192.168.0.1', 'NAT64 private'],
    ['2002:7f00:1::', '6to4 loopback'],
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
    '64:ff9b::8.8.8.8',
  ])('lets the public address %s through', (address) => {
    expect(blockedRangeOf(address)).toBeNull();
  });

  it('refuses what is not an address at all', () => {
    expect(blockedRangeOf('localhost')?.rule).toBe('not an IP address');
  });
});

describe('parseIp and parseCidr', () => {
  it('expands IPv6 shorthand', () => {
    expect(parseIp('1::2')?.bytes).toEqual([0, 1, ...Array(12).fill(0), 0, 2]);
  });

  it('rejects malformed CIDRs', () => {
    expect(parseCidr('10.0.0.0/33')).toBeNull();
    expect(parseCidr('10.0.0.0/x')).toBeNull();
    expect(parseCidr('example.com')).toBeNull();
    expect(parseCidr('fd00::/8')?.prefix).toBe(8);
  });
});

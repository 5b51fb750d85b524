import { isIP } from 'node:net';

/** An IP address as bytes: 4 for IPv4, 16 for IPv6. */
export interface ParsedIp {
  version: 4 | 6;
  bytes: number[];
}

/** A range the SSRF guard refuses, with the name an error message shows. */
export interface BlockedRange {
  rule: string;
  cidr: string;
}

/** Parses an IPv4 or IPv6 literal (brackets and a zone id are accepted); null if it is not one. */
export function parseIp(text: string): ParsedIp | null {
  const literal = text.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  const version = isIP(literal);
  if (version === 4) return { version: 4, bytes: literal.split('.').map(Number) };
  if (version !== 6) return null;
  return { version: 6, bytes: parseIpv6(literal) };
}

function parseIpv6(literal: string): number[] {
  let text = literal.toLowerCase();
  // A dotted IPv4 tail (::ffff:127.0.0.1) becomes two hex groups.
  const tail = text.match(/(\d+\.\d+\.\d+\.\d+)$/);
  if (tail) {
    const [a, b, c, d] = tail[1].split('.').map(Number);
    text = text.slice(0, -tail[1].length) + `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, rest] = text.split('::');
  const headGroups = head ? head.split(':') : [];
  const restGroups = rest ? rest.split(':') : [];
  const zeros = text.includes('::') ? 8 - headGroups.length - restGroups.length : 0;
  const groups = [...headGroups, ...Array<string>(zeros).fill('0'), ...restGroups].map((g) => parseInt(g, 16));
  return groups.flatMap((g) => [g >> 8, g & 0xff]);
}

/** Parses `a.b.c.d/n`, `x::/n` or a bare address (a /32 or /128). */
export function parseCidr(text: string): { ip: ParsedIp; prefix: number } | null {
  const [address, prefixText] = text.trim().split('/');
  const ip = parseIp(address);
  if (!ip) return null;
  const max = ip.version === 4 ? 32 : 128;
  if (prefixText === undefined) return { ip, prefix: max };
  if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > max) return null;
  return { ip, prefix: Number(prefixText) };
}

export function inCidr(ip: ParsedIp, cidr: { ip: ParsedIp; prefix: number }): boolean {
  if (ip.version !== cidr.ip.version) return false;
  for (let bit = 0; bit < cidr.prefix; bit++) {
    const mask = 0x80 >> (bit % 8);
    if ((ip.bytes[bit >> 3] & mask) !== (cidr.ip.bytes[bit >> 3] & mask)) return false;
  }
  return true;
}

// The metadata address comes before link-local so the error names it precisely.
const IPV4_RANGES: BlockedRange[] = [
  { rule: 'cloud metadata', cidr: '169.254.169.254/32' },
  { rule: 'this network', cidr: '0.0.0.0/8' },
  { rule: 'private', cidr: '10.0.0.0/8' },
  { rule: 'carrier-grade NAT', cidr: '100.64.0.0/10' },
  { rule: 'loopback', cidr: '127.0.0.0/8' },
  { rule: 'link-local', cidr: '169.254.0.0/16' },
  { rule: 'private', cidr: '172.16.0.0/12' },
  { rule: 'IETF protocol assignments', cidr: '192.0.0.0/24' },
  { rule: 'private', cidr: '192.168.0.0/16' },
  { rule: 'benchmarking', cidr: '198.18.0.0/15' },
  { rule: 'multicast', cidr: '224.0.0.0/4' },
  { rule: 'reserved/broadcast', cidr: '240.0.0.0/4' },
];

const IPV6_RANGES: BlockedRange[] = [
  { rule: 'unspecified', cidr: '::/128' },
  { rule: 'loopback', cidr: '::1/128' },
  { rule: 'link-local', cidr: 'fe80::/10' },
  { rule: 'site-local', cidr: 'fec0::/10' },
  { rule: 'unique-local', cidr: 'fc00::/7' },
  { rule: 'multicast', cidr: 'ff00::/8' },
];

const compiled = [...IPV4_RANGES, ...IPV6_RANGES].map((range) => ({ range, cidr: parseCidr(range.cidr)! }));

// IPv6 forms that carry an IPv4 address a packet may end up at: mapped, compatible, NAT64, 6to4.
const EMBEDDING: { name: string; cidr: ReturnType<typeof parseCidr>; offset: number }[] = [
  { name: 'IPv4-mapped', cidr: parseCidr('::ffff:0:0/96'), offset: 12 },
  { name: 'IPv4-compatible', cidr: parseCidr('::/96'), offset: 12 },
  { name: 'NAT64', cidr: parseCidr('64:ff9b::/96'), offset: 12 },
  { name: '6to4', cidr: parseCidr('2002::/16'), offset: 2 },
];

/**
 * The blocked range `address` falls in, or null when it is a public address. IPv6 forms that
 * embed an IPv4 address are judged by that address, so `::ffff:127.0.0.1` is loopback too.
 */
export function blockedRangeOf(address: string): BlockedRange | null {
  const ip = parseIp(address);
  if (!ip) return { rule: 'not an IP address', cidr: address };
  const own = compiled.find(({ cidr }) => inCidr(ip, cidr));
  if (own) return own.range;
  if (ip.version === 6) {
    for (const form of EMBEDDING) {
      if (!inCidr(ip, form.cidr!)) continue;
      const v4 = ip.bytes.slice(form.offset, form.offset + 4).join('.');
      const inner = blockedRangeOf(v4);
      if (inner) return { rule: `${form.name} ${inner.rule}`, cidr: `${address} = ${v4} in ${inner.cidr}` };
    }
  }
  return null;
}

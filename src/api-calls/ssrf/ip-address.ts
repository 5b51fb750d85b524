import ipaddr from 'ipaddr.js';
import { isIP } from 'node:net';

/** A parsed IPv4 or IPv6 address (ipaddr.js). */
export type IpAddress = ipaddr.IPv4 | ipaddr.IPv6;

/** An address and a prefix length, as `ipaddr.parseCIDR` returns it. */
export type Cidr = [IpAddress, number];

/** A range the SSRF guard refuses, with the name an error message shows. */
export interface BlockedRange {
  rule: string;
  cidr: string;
}

/**
 * Parses an IPv4 or IPv6 literal (brackets and a zone id are accepted); null if it is not one.
 * Node's `isIP` gates ipaddr.js so that only canonical literals count: ipaddr.js would also read
 * classful forms such as `127.1`, which are host names to a resolver, not addresses.
 */
export function parseIp(text: string): IpAddress | null {
  const literal = text.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  return isIP(literal) ? ipaddr.parse(literal) : null;
}

/** Parses `a.b.c.d/n`, `x::/n` or a bare address (a /32 or /128); null if it is neither. */
export function parseCidr(text: string): Cidr | null {
  const [address, prefix] = text.trim().split('/');
  const ip = parseIp(address);
  if (!ip) return null;
  if (prefix === undefined) return [ip, ip.kind() === 'ipv4' ? 32 : 128];
  if (!/^\d{1,3}$/.test(prefix)) return null;
  try {
    return ipaddr.parseCIDR(`${ip.toString()}/${prefix}`);
  } catch {
    return null;
  }
}

/** Whether `ip` lies in `cidr`; an IPv4-mapped IPv6 address counts as its IPv4 address. */
export function inCidr(ip: IpAddress, cidr: Cidr): boolean {
  const address = unmapped(ip);
  return address.kind() === cidr[0].kind() && address.match(cidr);
}

function unmapped(ip: IpAddress): IpAddress {
  return ip.kind() === 'ipv6' && (ip as ipaddr.IPv6).isIPv4MappedAddress() ? (ip as ipaddr.IPv6).toIPv4Address() : ip;
}

// IANA allocates global unicast IPv6 from 2000::/3 only; ipaddr.js calls everything it has no
// special name for "unicast", including the IETF-reserved ::/8 where IPv4-compatible addresses live.
const GLOBAL_UNICAST_V6 = ipaddr.parseCIDR('2000::/3');
// The well-known NAT64 prefix: DNS64 resolvers answer every IPv4-only public name with an address
// in it, so an IPv6-only cluster needs it; it is judged by the IPv4 address it embeds. The
// local-use prefix 64:ff9b:1::/48 (RFC 8215) has no fixed embedding and stays refused.
const NAT64_WELL_KNOWN = ipaddr.parseCIDR('64:ff9b::/96');
const CLOUD_METADATA: Cidr[] = [ipaddr.parseCIDR('169.254.169.254/32'), ipaddr.parseCIDR('fd00:ec2::254/128')];

// ipaddr.js's range names, spelt for an error message; unlisted names are shown as they are.
const RULE_NAMES: Record<string, string> = {
  linkLocal: 'link-local',
  carrierGradeNat: 'carrier-grade NAT',
  uniqueLocal: 'unique-local',
  deprecatedSiteLocal: 'site-local',
  discard: 'discard-only',
  rfc6145: 'IPv4-translated',
  rfc6052: 'NAT64',
  teredo: 'Teredo',
  reserved: 'reserved (documentation, benchmarking or future use)',
};

/**
 * The range `address` falls in when it is not a public unicast address, or null when it is one.
 * Only what ipaddr.js classifies as `unicast` passes (IPv6 also within 2000::/3): every special
 * range it knows (documentation, Teredo, 6to4, NAT64 local-use, discard-only…) is refused without
 * being listed here. IPv4-mapped and well-known NAT64 addresses are judged by their IPv4 address.
 */
export function blockedRangeOf(address: string): BlockedRange | null {
  const ip = parseIp(address);
  if (!ip) return { rule: 'not an IP address', cidr: address };
  if (ip.kind() === 'ipv6') {
    const v6 = ip as ipaddr.IPv6;
    if (v6.isIPv4MappedAddress()) return embedded('IPv4-mapped', address, v6.toIPv4Address());
    if (v6.match(NAT64_WELL_KNOWN)) return embedded('NAT64', address, new ipaddr.IPv4(v6.toByteArray().slice(12)));
  }
  const metadata = CLOUD_METADATA.find((cidr) => ip.kind() === cidr[0].kind() && ip.match(cidr));
  if (metadata) return { rule: 'cloud metadata', cidr: cidrText(metadata) };
  const range = ip.range();
  if (range !== 'unicast') return { rule: RULE_NAMES[range] ?? range, cidr: specialRangeOf(ip, range) };
  if (ip.kind() === 'ipv6' && !ip.match(GLOBAL_UNICAST_V6)) {
    return { rule: 'outside global unicast', cidr: `not in ${cidrText(GLOBAL_UNICAST_V6)}` };
  }
  return null;
}

function embedded(form: string, address: string, v4: ipaddr.IPv4): BlockedRange | null {
  const inner = blockedRangeOf(v4.toString());
  return inner && { rule: `${form} ${inner.rule}`, cidr: `${address} = ${v4.toString()} in ${inner.cidr}` };
}

/** The CIDR of ipaddr.js's table that put `ip` in `range`, for the error message. */
function specialRangeOf(ip: IpAddress, range: string): string {
  const table = (ip as unknown as { SpecialRanges: Record<string, Cidr | Cidr[]> }).SpecialRanges[range];
  const entries = (Array.isArray(table[0]) ? table : [table]) as Cidr[];
  const match = entries.find((cidr) => ip.match(cidr));
  return match ? cidrText(match) : range;
}

function cidrText([ip, bits]: Cidr): string {
  return `${ip.toString()}/${bits}`;
}

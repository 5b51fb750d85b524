import { UnrecoverableError } from 'bullmq';
import { lookup } from 'node:dns/promises';
import { blockedRangeOf, Cidr, inCidr, parseCidr, parseIp } from './ip-address';

/** An address the guard checked; the request must connect to exactly this one. */
export interface CheckedDestination {
  host: string;
  address: string;
  family: 4 | 6;
}

export type Resolver = (host: string) => Promise<{ address: string; family: number }[]>;

const systemResolver: Resolver = (host) => lookup(host, { all: true, verbatim: true });

/** A destination the policy refuses: permanent, the same URL would be refused again. */
export class SsrfBlockedError extends UnrecoverableError {
  constructor(message: string) {
    super(message);
    this.name = 'SsrfBlockedError';
  }
}

/**
 * Decides whether an outbound request may go to a URL: http(s) only, and every address the
 * host resolves to must be public unicast (see {@link blockedRangeOf}) unless the host name or the address is allow-listed
 * (`API_CALLS_ALLOWED_HOSTS`: host names, `*.suffix` wildcards, IPs and CIDRs).
 */
export class SsrfGuard {
  private readonly hosts = new Set<string>();
  private readonly suffixes: string[] = [];
  private readonly cidrs: Cidr[] = [];

  constructor(
    allowList: string | undefined,
    private readonly resolve: Resolver = systemResolver,
  ) {
    for (const entry of (allowList ?? '')
      .split(',')
      .map((e) => e.trim().toLowerCase())
      .filter(Boolean)) {
      const cidr = parseCidr(entry);
      if (cidr) this.cidrs.push(cidr);
      else if (entry.startsWith('*.')) this.suffixes.push(entry.slice(1));
      else this.hosts.add(entry);
    }
  }

  /** Resolves the URL's host and returns the address to connect to, or throws {@link SsrfBlockedError}. */
  async check(url: URL): Promise<CheckedDestination> {
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new SsrfBlockedError(`Refused ${url.protocol}// URL: only http and https are allowed`);
    }
    // A trailing dot is the same fully-qualified name (`localhost.` is `localhost`).
    const host = url.hostname
      .replace(/^\[|\]$/g, '')
      .toLowerCase()
      .replace(/\.+$/, '');
    const hostAllowed = this.hosts.has(host) || this.suffixes.some((s) => host.endsWith(s));
    const literal = parseIp(host);
    const answers = literal ? [{ address: host, family: literal.kind() === 'ipv6' ? 6 : 4 }] : await this.lookup(host);
    // Every answer is checked, not just the first: a name that mixes public and private
    // addresses is refused rather than left to whichever the connection happens to use.
    for (const { address } of answers) {
      if (hostAllowed || this.addressAllowed(address)) continue;
      const range = blockedRangeOf(address);
      if (range) {
        const via = literal ? address : `${host} resolves to ${address}, which`;
        throw new SsrfBlockedError(
          `Refused ${url.protocol}//${url.host}: ${via} is in a blocked range (${range.rule}, ${range.cidr}); add it to API_CALLS_ALLOWED_HOSTS to allow it`,
        );
      }
    }
    const first = answers[0];
    return { host, address: first.address, family: first.family === 6 ? 6 : 4 };
  }

  private addressAllowed(address: string): boolean {
    const ip = parseIp(address);
    return ip !== null && this.cidrs.some((cidr) => inCidr(ip, cidr));
  }

  private async lookup(host: string): Promise<{ address: string; family: number }[]> {
    try {
      const answers = await this.resolve(host);
      if (answers.length === 0) throw new Error('no addresses');
      return answers;
    } catch (error) {
      // Transient: DNS may be briefly unavailable; the task's retry policy applies.
      throw new Error(`DNS lookup of ${host} failed: ${error.code ?? error.message}`, { cause: error });
    }
  }
}

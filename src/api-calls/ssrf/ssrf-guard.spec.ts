import { SsrfBlockedError, SsrfGuard } from './ssrf-guard';

const resolvesTo =
  (...addresses: string[]) =>
  async () =>
    addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));

describe('SsrfGuard', () => {
  it('returns the resolved public address to connect to', async () => {
    const sut = new SsrfGuard(undefined, resolvesTo('93.184.216.34'));
    await expect(sut.check(new URL('https://example.com/x'))).resolves.toEqual({
      host: 'example.com',
      address: '93.184.216.34',
      family: 4,
    });
  });

  it('refuses a name that resolves to loopback, naming the rule', async () => {
    const sut = new SsrfGuard(undefined, resolvesTo('127.0.0.1'));
    await expect(sut.check(new URL('http://evil.example/'))).rejects.toThrow(
      /evil\.example resolves to 127\.0\.0\.1.*loopback/,
    );
  });

  it('refuses when any one answer is private', async () => {
    const sut = new SsrfGuard(undefined, resolvesTo('93.184.216.34', '10.0.0.5'));
    await expect(sut.check(new URL('http://mixed.example/'))).rejects.toBeInstanceOf(SsrfBlockedError);
  });

  it('refuses literal metadata and mapped addresses without asking DNS', async () => {
    const resolver = jest.fn();
    const sut = new SsrfGuard(undefined, resolver);
    await expect(sut.check(new URL('http://169.254.169.254/latest/meta-data'))).rejects.toThrow(/cloud metadata/);
    await expect(sut.check(new URL('http://[::ffff:127.0.0.1]:8080/'))).rejects.toThrow(/IPv4-mapped loopback/);
    await expect(sut.check(new URL('http://2130706433/'))).rejects.toThrow(/loopback/);
    expect(resolver).not.toHaveBeenCalled();
  });

  it('refuses other schemes', async () => {
    const sut = new SsrfGuard(undefined, resolvesTo('93.184.216.34'));
    await expect(sut.check(new URL('file:///etc/passwd'))).rejects.toThrow(/only http and https/);
  });

  it('lets allow-listed hosts, wildcards, addresses and CIDRs through', async () => {
    const sut = new SsrfGuard('localhost, *.svc.cluster.local, 10.1.0.0/16, ::1', resolvesTo('10.9.9.9'));
    await expect(sut.check(new URL('http://localhost:3000/'))).resolves.toMatchObject({ address: '10.9.9.9' });
    await expect(sut.check(new URL('http://api.svc.cluster.local/'))).resolves.toMatchObject({ address: '10.9.9.9' });
    await expect(sut.check(new URL('http://10.1.2.3/'))).resolves.toMatchObject({ address: '10.1.2.3' });
    await expect(sut.check(new URL('http://[::1]/'))).resolves.toMatchObject({ address: '::1', family: 6 });
    await expect(sut.check(new URL('http://10.2.0.1/'))).rejects.toThrow(/private/);
    await expect(sut.check(new URL('http://other.example/'))).rejects.toThrow(/other\.example resolves to 10\.9\.9\.9/);
  });

  it('reports DNS failures as transient errors', async () => {
    const sut = new SsrfGuard(undefined, async () => {
      throw Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' });
    });
    const error = await sut.check(new URL('http://nowhere.invalid/')).catch((e) => e);
    expect(error).not.toBeInstanceOf(SsrfBlockedError);
    expect(error.message).toMatch(/DNS lookup of nowhere\.invalid failed: ENOTFOUND/);
  });

  // WHATWG URL parsing turns 127.1, 2130706433 and 0x7f000001 into 127.0.0.1; the guard sees the
  // parsed host, so these never reach DNS.
  it.each([
    ['127.1', /loopback/],
    ['2130706433', /loopback/],
    ['0x7f000001', /loopback/],
    ['0177.0.0.1', /loopback/],
    ['[::1]', /loopback/],
    ['[0:0:0:0:0:0:0:1]', /loopback/],
    ['[::ffff:127.0.0.1]', /IPv4-mapped loopback/],
    ['[::127.0.0.1]', /outside global unicast/],
    ['[64:ff9b::7f00:1]', /NAT64 loopback/],
    ['0.0.0.0', /unspecified/],
    ['0', /unspecified/],
    ['[64:ff9b:1::a00:1]', /NAT64/],
    ['[2001::1]', /Teredo/],
    ['[100::1]', /discard-only/],
    ['192.0.2.10', /reserved/],
    ['[2001:db8::1]', /reserved/],
    ['[::]', /unspecified/],
  ])('refuses the loopback spelling %s without asking DNS', async (host, rule) => {
    const sut = new SsrfGuard(undefined, async () => {
      throw new Error('DNS must not be asked');
    });
    await expect(sut.check(new URL(`http://${host}:8080/`))).rejects.toThrow(SsrfBlockedError);
    await expect(sut.check(new URL(`http://${host}:8080/`))).rejects.toThrow(rule);
  });

  it('reads a trailing dot as the same name (localhost. is localhost)', async () => {
    const asked: string[] = [];
    const sut = new SsrfGuard(undefined, async (host) => {
      asked.push(host);
      return [{ address: '127.0.0.1', family: 4 }];
    });
    await expect(sut.check(new URL('http://localhost./'))).rejects.toThrow(/localhost resolves to 127\.0\.0\.1/);
    expect(asked).toEqual(['localhost']);
    const allowed = new SsrfGuard('localhost', async () => [{ address: '127.0.0.1', family: 4 }]);
    await expect(allowed.check(new URL('http://LOCALHOST../'))).resolves.toMatchObject({ address: '127.0.0.1' });
  });
});

import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { ApiClient } from './support/api-client';
import { startTestService, TestService } from './support/test-service';

/** A listener on a loopback address that counts what reaches it. */
async function listen(host: string, handler: (url: string) => { status: number; location?: string }) {
  const seen: string[] = [];
  const server: Server = createServer((req, res) => {
    seen.push(req.url ?? '');
    const { status, location } = handler(req.url ?? '/');
    res.writeHead(status, location ? { location } : {}).end('internal secret');
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, host, resolve));
  return { server, seen, port: (server.address() as AddressInfo).port };
}

// Every way of writing "this machine" an attacker tries, direct and behind a redirect. The only
// targets are listeners this spec starts on 127.0.0.1 and ::1: a request that slipped through
// the guard would be counted there. The redirector is on 127.0.0.2, the one allow-listed address.
const LOOPBACK_SPELLINGS = [
  '127.0.0.1',
  '127.1',
  '2130706433',
  '0x7f000001',
  '0177.0.0.1',
  '[::1]',
  '[::ffff:127.0.0.1]',
  '0.0.0.0',
  'localhost',
  'localhost.',
];

describe('Security: tasks.api.call refuses every loopback spelling, also behind redirects', () => {
  let svc: TestService;
  let api: ApiClient;
  let v4: Awaited<ReturnType<typeof listen>>;
  let v6: Awaited<ReturnType<typeof listen>>;
  let redirector: Awaited<ReturnType<typeof listen>>;

  beforeAll(async () => {
    v4 = await listen('127.0.0.1', () => ({ status: 200 }));
    // Same port on ::1 where the machine allows it, so "[::1]:port" would land on a listener.
    v6 = await listen('::1', () => ({ status: 200 }));
    redirector = await listen('127.0.0.2', (url) => {
      const target = new URL(url, 'http://redirector').searchParams.get('to');
      if (!target) return { status: 200 };
      return { status: url.includes('status=307') ? 307 : 302, location: target };
    });
    svc = await startTestService({ API_CALLS_ALLOWED_HOSTS: '127.0.0.2' });
    api = await svc.newClient();
  });
  afterAll(async () => {
    await svc?.stop();
    for (const l of [v4, v6, redirector]) await new Promise((r) => l?.server.close(r));
  });

  const targetUrl = (host: string) => `http://${host}:${host.includes(':') ? v6.port : v4.port}/secret`;

  async function expectBlocked(url: string): Promise<any> {
    const response = await api.post('/api-calls', { method: 'GET', url, timeoutMs: 5000 });
    expect(response.status).toBe(202);
    const done = await api.waitForTask(response.body.id, undefined, 30_000);
    expect(done).toMatchObject({ state: 'FAILURE', attempts: 1, error: { type: 'SsrfBlockedError' } });
    expect(done.error.message).toMatch(/blocked range/);
    return done;
  }

  it.each(LOOPBACK_SPELLINGS)('refuses http://%s directly, before connecting', async (host) => {
    await expectBlocked(targetUrl(host));
    expect([...v4.seen, ...v6.seen]).toEqual([]);
  });

  it.each(LOOPBACK_SPELLINGS.flatMap((host) => [[host, 302] as const, [host, 307] as const]))(
    'refuses a %s redirect (%i) from an allowed host',
    async (host, status) => {
      const before = redirector.seen.length;
      await expectBlocked(
        `http://127.0.0.2:${redirector.port}/hop?status=${status}&to=${encodeURIComponent(targetUrl(host))}`,
      );
      // The allowed hop was taken, the loopback one was not.
      expect(redirector.seen.length).toBe(before + 1);
      expect([...v4.seen, ...v6.seen]).toEqual([]);
    },
  );

  it('still reaches the allowed host itself (the guard is not refusing everything)', async () => {
    const response = await api.post('/api-calls', { method: 'GET', url: `http://127.0.0.2:${redirector.port}/plain` });
    const done = await api.waitForTask(response.body.id);
    expect(done.state).toBe('SUCCESS');
    expect(redirector.seen).toContain('/plain');
  });
});

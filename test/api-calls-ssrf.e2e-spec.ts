import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { ApiClient } from './support/api-client';
import { startTestService, TestService } from './support/test-service';

// A service with no allow-list: what production looks like. The target is a real local server,
// so a request that slipped through the guard would be seen arriving.
describe('tasks.api.call refuses internal destinations (no allow-list)', () => {
  let svc: TestService;
  let api: ApiClient;
  let server: Server;
  let port: number;
  let requests = 0;

  beforeAll(async () => {
    server = createServer((_req, res) => {
      requests++;
      res.end('internal secret');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
    svc = await startTestService({ API_CALLS_ALLOWED_HOSTS: '' });
    api = await svc.newClient();
  });
  afterAll(async () => {
    await svc?.stop();
    await new Promise((r) => server?.close(r));
  });

  it.each([
    [
      'a name that resolves to 127.0.0.1',
      'localhost',
      /localhost resolves to 127\.0\.0\.1, which is in a blocked range \(loopback, 127\.0\.0\.0\/8\)/,
    ],
    ['a loopback literal', '127.0.0.1', /127\.0\.0\.1 is in a blocked range \(loopback/],
    ['an IPv4-mapped IPv6 literal', '[::ffff:127.0.0.1]', /is in a blocked range \(IPv4-mapped loopback/],
  ])('fails %s at once, naming the rule', async (_case, host, message) => {
    const response = await api.post('/api-calls', { method: 'GET', url: `http://${host}:${port}/` });
    expect(response.status).toBe(202);
    const done = await api.waitForTask(response.body.id);
    expect(done).toMatchObject({ state: 'FAILURE', attempts: 1, error: { type: 'SsrfBlockedError' } });
    expect(done.error.message).toMatch(message);
    expect((await api.get(`/api-calls/${done.id}`)).body).toMatchObject({
      statusCode: null,
      attempts: 1,
      error: { type: 'SsrfBlockedError' },
    });
    expect(requests).toBe(0);
  });

  it('refuses webhooks to internal addresses too', async () => {
    const response = await api.post('/webhooks', { url: `http://localhost:${port}/hook`, event: 'x', payload: {} });
    const done = await api.waitForTask(response.body.id);
    expect(done).toMatchObject({ state: 'FAILURE', attempts: 1, error: { type: 'SsrfBlockedError' } });
    expect(requests).toBe(0);
  });
});

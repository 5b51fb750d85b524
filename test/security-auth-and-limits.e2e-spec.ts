import { operationsOf } from './fuzz/openapi-operations';
import { ApiClient } from './support/api-client';
import { ADMIN_KEY, startTestService, TestService } from './support/test-service';

const basic = (text: string | Buffer) => `Basic ${Buffer.from(text).toString('base64')}`;

// What a scanner or a broken client sends as Basic credentials.
const GARBLED_BASIC: [string, string][] = [
  ['no credentials', 'Basic'],
  ['not base64', 'Basic !!!@@@###'],
  ['base64 with trailing garbage', `${basic(`admin:${ADMIN_KEY}`)}%%`],
  ['no colon', basic(ADMIN_KEY)],
  ['an empty password', basic('admin:')],
  ['invalid UTF-8', `Basic ${Buffer.concat([Buffer.from('u:'), Buffer.from([0xff, 0xc3, 0x28])]).toString('base64')}`],
  ['a NUL in the password', basic(`admin:${ADMIN_KEY}\u0000`)],
  ['8,000 characters', `Basic ${'QUFB'.repeat(2000)}`],
  ['a wrong key', basic('admin:not-the-key')],
];

describe('Security: garbled Basic credentials and limit=1000000', () => {
  let svc: TestService;
  let api: ApiClient;

  beforeAll(async () => {
    svc = await startTestService({ ROLE: 'api' });
    api = svc.admin;
  });
  afterAll(() => svc?.stop());

  const raw = (path: string, authorization: string) =>
    fetch(`${svc.baseUrl}${path}`, { headers: { authorization }, redirect: 'manual' });

  it('accepts well-formed Basic with the admin key, on the API and on the dashboard', async () => {
    expect((await raw('/tasks', basic(`anyone:${ADMIN_KEY}`))).status).toBe(200);
    expect((await raw('/admin/queues', basic(`anyone:${ADMIN_KEY}`))).status).toBe(200);
  });

  it.each(GARBLED_BASIC)('the API answers %s with a 401 that says why', async (_case, header) => {
    const response = await raw('/tasks', header);
    expect(response.status).toBe(401);
    expect(((await response.json()) as { message: string }).message).toMatch(
      /Authorization header is malformed|unknown or revoked/,
    );
  });

  it.each(GARBLED_BASIC)('the dashboard answers %s with a 401 and a sign-in prompt', async (_case, header) => {
    const response = await raw('/admin/queues', header);
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(/^Basic realm=/);
    expect(((await response.json()) as { message: string }).message).toMatch(/admin API key/);
  });

  // Every list route in /docs-json (any GET with a `limit` parameter) refuses a page size past
  // its maximum with a 400 naming `limit`, rather than clamping it (see docs/api.md).
  it('refuses limit=1000000 on every list route with a 400 naming limit', async () => {
    const doc = (await api.get('/docs-json')).body;
    const lists = operationsOf(doc).filter(
      (o) => o.method === 'GET' && o.parameters.some((p) => p.in === 'query' && p.name === 'limit'),
    );
    expect(lists.map((o) => o.path)).toEqual(
      expect.arrayContaining(['/tasks', '/files', '/credits/accounts', '/stats/snapshots']),
    );
    const client = await svc.newClient();
    for (const list of lists) {
      const path = list.path.replace(/\{\w+\}/g, '00000000-0000-4000-8000-000000000000');
      const response = await api.get(`${path}?limit=1000000`);
      expect({ path, status: response.status }).toEqual({ path, status: 400 });
      expect(response.body.errors).toEqual([expect.objectContaining({ field: 'limit', rule: 'max' })]);
      // A client key gets the same 400, or the 403 of an admin-only route (checked first).
      const asClient = await client.get(`${path}?limit=1000000`);
      expect([400, 403]).toContain(asClient.status);
      if (asClient.status === 400) expect(asClient.body.errors).toEqual(response.body.errors);
      // The documented maximum itself is accepted (or the id is simply absent).
      const maximum = list.parameters.find((p) => p.name === 'limit')!.schema.maximum;
      expect([200, 404]).toContain((await api.get(`${path}?limit=${maximum}`)).status);
    }
  });
});

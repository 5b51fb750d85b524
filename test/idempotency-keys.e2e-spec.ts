import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { ApiClient } from './support/api-client';
import { startTestService, TestService } from './support/test-service';

/**
 * The IETF httpapi Idempotency-Key draft on every route that submits a task: the same key with
 * the same payload answers 200 with the first task; the same key with another payload is a 422
 * naming the key. The api role runs no workers, so the tasks only wait in their queues.
 */
describe('Idempotency-Key on every route that submits a task', () => {
  let svc: TestService;
  let api: ApiClient;
  let importRoot: string;

  beforeAll(async () => {
    importRoot = mkdtempSync(join(tmpdir(), 'idempotency-import-'));
    mkdirSync(join(importRoot, 'a'));
    mkdirSync(join(importRoot, 'b'));
    svc = await startTestService({ ROLE: 'api', IMPORT_ROOT: importRoot });
    api = svc.admin;
  });
  afterAll(async () => {
    await svc?.stop();
    rmSync(importRoot, { recursive: true, force: true });
  });

  async function routes(): Promise<[string, string, unknown, unknown][]> {
    const account = (await api.post('/credits/accounts', {})).body.id;
    const other = (await api.post('/credits/accounts', {})).body.id;
    return [
      [
        'POST /tasks',
        '/tasks',
        { name: 'tasks.system.noop', args: { n: 1 } },
        { name: 'tasks.system.noop', args: { n: 2 } },
      ],
      ['POST /files/export', '/files/export', { fileIds: [randomUUID()] }, { fileIds: [randomUUID()] }],
      ['POST /files/import', '/files/import', { directory: 'a' }, { directory: 'b' }],
      ['POST /stats/daily', '/stats/daily', { date: '2026-11-01' }, { date: '2026-11-02' }],
      [
        'POST /emails',
        '/emails',
        { to: ['a@example.com'], subject: 'one', text: 'x' },
        { to: ['a@example.com'], subject: 'two', text: 'x' },
      ],
      [
        'POST /notifications',
        '/notifications',
        { recipients: ['a@example.com'], subject: 'one', template: 'notification', context: { title: 't', body: 'x' } },
        { recipients: ['a@example.com'], subject: 'two', template: 'notification', context: { title: 't', body: 'x' } },
      ],
      [
        'POST /api-calls',
        '/api-calls',
        { method: 'GET', url: 'https://example.com/a' },
        { method: 'GET', url: 'https://example.com/b' },
      ],
      [
        'POST /webhooks',
        '/webhooks',
        { url: 'https://example.com/a', event: 'x', payload: {} },
        { url: 'https://example.com/a', event: 'y', payload: {} },
      ],
      ['POST /credits/…/grant', `/credits/accounts/${account}/grant`, { amount: 10 }, { amount: 11 }],
      ['POST /credits/…/consume', `/credits/accounts/${account}/consume`, { amount: 1 }, { amount: 2 }],
      [
        'POST /credits/transfers',
        '/credits/transfers',
        { fromAccountId: account, toAccountId: other, amount: 1 },
        { fromAccountId: account, toAccountId: other, amount: 2 },
      ],
      ['POST /credits/expire', '/credits/expire', { accountId: account }, { accountId: other }],
    ];
  }

  it('same key and payload: 200 with the first task; another payload: 422 naming the key', async () => {
    for (const [route, path, first, changed] of await routes()) {
      const key = `key-${randomUUID()}`;
      const created = await api.post(path, first, { 'Idempotency-Key': key });
      expect({ route, status: created.status, body: created.body }).toMatchObject({ route, status: 202 });
      const taskId = created.body.id ?? created.body.task?.id;

      const repeated = await api.post(path, first, { 'Idempotency-Key': key });
      expect({ route, status: repeated.status, id: repeated.body.id }).toEqual({ route, status: 200, id: taskId });

      const conflict = await api.post(path, changed, { 'Idempotency-Key': key });
      expect({ route, status: conflict.status }).toEqual({ route, status: 422 });
      expect(conflict.body.errors).toEqual([
        { field: 'Idempotency-Key', rule: 'samePayload', message: expect.stringContaining(JSON.stringify(key)) },
      ]);
    }
  });

  it('the body key of POST /tasks and of the credit ledger follows the same rule, naming that field', async () => {
    const key = `opt-${randomUUID()}`;
    const body = (n: number) => ({ name: 'tasks.system.noop', args: { n }, options: { idempotencyKey: key } });
    expect((await api.post('/tasks', body(1))).status).toBe(202);
    expect((await api.post('/tasks', body(1))).status).toBe(200);
    const conflict = await api.post('/tasks', body(2));
    expect(conflict.status).toBe(422);
    expect(conflict.body.errors[0]).toMatchObject({ field: 'options.idempotencyKey', rule: 'samePayload' });

    const account = (await api.post('/credits/accounts', {})).body.id;
    const ledgerKey = `ledger-${randomUUID()}`;
    const grant = (amount: number) =>
      api.post(`/credits/accounts/${account}/grant`, { amount, idempotencyKey: ledgerKey });
    expect((await grant(5)).status).toBe(202);
    expect((await grant(5)).status).toBe(200);
    const changed = await grant(6);
    expect(changed.status).toBe(422);
    expect(changed.body.errors[0]).toMatchObject({ field: 'idempotencyKey', rule: 'samePayload' });
    expect(changed.body.errors[0].message).toContain(ledgerKey);
  });

  it('a key is trimmed, blank means none, and more than 200 characters is a 400 naming it', async () => {
    const tooLong = await api.post(
      '/files/export',
      { fileIds: [randomUUID()] },
      { 'Idempotency-Key': 'k'.repeat(201) },
    );
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.errors).toEqual([expect.objectContaining({ field: 'Idempotency-Key', rule: 'maxLength' })]);
    const blank = { 'Idempotency-Key': '  ' };
    const one = await api.post('/stats/daily', { date: '2026-10-01' }, blank);
    const two = await api.post('/stats/daily', { date: '2026-10-01' }, blank);
    expect([one.status, two.status]).toEqual([202, 202]);
    expect(one.body.id).not.toBe(two.body.id);
  });
});

import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { ApiClient } from './support/api-client';
import { startTestService, TestService } from './support/test-service';
import { balanceOf, createAccount, ledgerViolations } from './credits-helpers';

// These specs wait on real workers: set their timeout here, whatever the Jest config says.
jest.setTimeout(120_000);

/** A calendar date `days` after `date` (YYYY-MM-DD). */
const addDays = (date: string, days: number) =>
  new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
// Expiry dates a month ahead, so the specs do not depend on the day they run. Shanghai has no
// DST: the end of local day D is D at 16:00 UTC.
const DAY1 = addDays(new Date().toISOString().slice(0, 10), 30);
const DAY2 = addDays(DAY1, 1);

describe('Credits rules: input, ownership, refunds, transfers, expiry', () => {
  let svc: TestService;
  let admin: ApiClient;
  let client: ApiClient;
  let other: ApiClient;
  let db: DataSource;
  let account: { id: string };

  beforeAll(async () => {
    svc = await startTestService({ TZ: 'Asia/Shanghai' });
    admin = svc.admin;
    client = await svc.newClient('rules-client');
    other = await svc.newClient('rules-other');
    db = svc.service.app.get(DataSource);
    account = await createAccount(client, { openingGrant: { amount: 1000 } });
  });
  afterAll(() => svc?.stop());
  afterEach(async () => expect(await ledgerViolations(db)).toEqual([]));

  describe('bad input is a 4xx naming the field, never a 500', () => {
    const badAmounts: [string, unknown][] = [
      ['negative', -5],
      ['zero', 0],
      ['fractional', 1.5],
      ['above-maximum', 1_000_000_001],
      ['huge', 1e300],
      ['beyond-2^53', 2 ** 64],
      ['numeric-string', '10'],
      ['non-numeric', 'abc'],
      ['null', null],
      ['object', { n: 1 }],
      ['boolean', true],
    ];
    it.each(badAmounts)(
      'consume with a %s amount → 400 on amount (domain endpoint and POST /tasks)',
      async (_label, amount) => {
        const viaDomain = await client.post(`/credits/accounts/${account.id}/consume`, { amount });
        expect(viaDomain.status).toBe(400);
        expect(viaDomain.body.errors.map((e: { field: string }) => e.field)).toContain('amount');
        const viaTasks = await client.post('/tasks', {
          name: 'tasks.credits.consume',
          args: { accountId: account.id, amount },
        });
        expect(viaTasks.status).toBe(400);
        expect(viaTasks.body.errors.map((e: { field: string }) => e.field)).toContain('args.amount');
      },
    );

    it.each([
      ['grant with a zero amount', (id: string) => `/credits/accounts/${id}/grant`, { amount: 0 }, 'amount'],
      [
        'grant with a bad date',
        (id: string) => `/credits/accounts/${id}/grant`,
        { amount: 1, expiresOn: '2026-02-30' },
        'expiresOn',
      ],
      [
        'grant with both expiries',
        (id: string) => `/credits/accounts/${id}/grant`,
        { amount: 1, expiresOn: '2099-12-01', expiresAt: '2099-12-01T00:00:00Z' },
        'expiresOn',
      ],
      [
        'refund with a bad id',
        (id: string) => `/credits/accounts/${id}/refund`,
        { transactionId: 'abc' },
        'transactionId',
      ],
      [
        'refund with a negative amount',
        (id: string) => `/credits/accounts/${id}/refund`,
        { transactionId: '1', amount: -1 },
        'amount',
      ],
      [
        'consume with an unknown field',
        (id: string) => `/credits/accounts/${id}/consume`,
        { amount: 1, sneaky: true },
        'sneaky',
      ],
      [
        'consume with a reserved key',
        (id: string) => `/credits/accounts/${id}/consume`,
        { amount: 1, idempotencyKey: 'sys:expire:1' },
        'idempotencyKey',
      ],
      [
        'consume with a long key',
        (id: string) => `/credits/accounts/${id}/consume`,
        { amount: 1, idempotencyKey: 'k'.repeat(201) },
        'idempotencyKey',
      ],
    ])('%s → 400 naming the field', async (_label, path, body, field) => {
      const response = await client.post(path(account.id), body);
      expect(response.status).toBe(400);
      expect(response.body.errors.map((e: { field: string }) => e.field)).toContain(field);
    });

    it('rejects bad transfers and opening grants', async () => {
      const same = await client.post('/credits/transfers', {
        fromAccountId: account.id,
        toAccountId: account.id,
        amount: 1,
      });
      expect([same.status, same.body.errors[0].field]).toEqual([400, 'toAccountId']);
      const badId = await client.post('/credits/transfers', {
        fromAccountId: 'nope',
        toAccountId: account.id,
        amount: 1,
      });
      expect([badId.status, badId.body.errors[0].field]).toEqual([400, 'fromAccountId']);
      const opening = await client.post('/credits/accounts', { openingGrant: { amount: 2.5 } });
      expect([opening.status, opening.body.errors[0].field]).toEqual([400, 'openingGrant.amount']);
    });

    it("answers 404 for an unknown account or another client's, and 400 for a malformed id", async () => {
      const theirs = await createAccount(other, { openingGrant: { amount: 10 } });
      for (const id of [randomUUID(), theirs.id]) {
        expect((await client.get(`/credits/accounts/${id}`)).status).toBe(404);
        expect((await client.get(`/credits/accounts/${id}/transactions`)).status).toBe(404);
        expect((await client.post(`/credits/accounts/${id}/consume`, { amount: 1 })).status).toBe(404);
        expect((await client.post(`/credits/accounts/${id}/grant`, { amount: 1 })).status).toBe(404);
        expect(
          (await client.post('/credits/transfers', { fromAccountId: account.id, toAccountId: id, amount: 1 })).status,
        ).toBe(404);
      }
      expect((await client.get('/credits/accounts/not-a-uuid')).status).toBe(400);
      expect((await client.get(`/credits/accounts/${account.id}/transactions?cursor=-1`)).status).toBe(400);
      expect((await client.get('/credits/accounts')).body.items.map((a: { id: string }) => a.id)).not.toContain(
        theirs.id,
      );
      // An admin sees every account.
      expect((await admin.get(`/credits/accounts/${theirs.id}`)).body.balance).toBe(10);
    });

    it("fails a task on another client's account as unknown, through the generic endpoint", async () => {
      const theirs = await createAccount(other, { openingGrant: { amount: 10 } });
      const task = await client.submit('tasks.credits.consume', { accountId: theirs.id, amount: 1 });
      expect(await client.waitForTask(task.id)).toMatchObject({
        state: 'FAILURE',
        attempts: 1,
        error: { type: 'UnknownAccount' },
      });
      const transfer = await client.submit('tasks.credits.transfer', {
        fromAccountId: theirs.id,
        toAccountId: account.id,
        amount: 1,
      });
      expect(await client.waitForTask(transfer.id)).toMatchObject({
        state: 'FAILURE',
        error: { type: 'UnknownAccount' },
      });
      expect(await balanceOf(other, theirs.id)).toBe(10);
      // An admin's task may use any account.
      const byAdmin = await admin.submit('tasks.credits.consume', { accountId: theirs.id, amount: 1 });
      expect(await admin.waitForTask(byAdmin.id)).toMatchObject({ state: 'SUCCESS', result: { balance: 9 } });
    });

    it('refuses a grant above the balance cap', async () => {
      const rich = await createAccount(admin);
      // Seed a near-maximal balance directly (grants are capped at 10^9 each), ledger included.
      await db.transaction(async (m) => {
        await m.query(`UPDATE credit_accounts SET balance = 1000000000000000 - 5 WHERE id = $1`, [rich.id]);
        await m.query(
          `INSERT INTO credit_transactions (account_id, kind, amount, balance_after, idempotency_key) VALUES ($1, 'GRANT', 1000000000000000 - 5, 1000000000000000 - 5, 'seed')`,
          [rich.id],
        );
      });
      const task = await admin.submit('tasks.credits.grant', { accountId: rich.id, amount: 6 });
      expect(await admin.waitForTask(task.id)).toMatchObject({ state: 'FAILURE', error: { type: 'BalanceLimit' } });
      expect(await balanceOf(admin, rich.id)).toBe(1_000_000_000_000_000 - 5);
    });
  });

  describe('refunds', () => {
    it('refunds an earlier consume at most its amount, once', async () => {
      const acc = await createAccount(client, { openingGrant: { amount: 100 } });
      const consume = await client.waitForTask(
        (await client.post(`/credits/accounts/${acc.id}/consume`, { amount: 40 })).body.id,
      );
      const transactionId = consume.result.transactionId;

      const tooMuch = await client.waitForTask(
        (await client.post(`/credits/accounts/${acc.id}/refund`, { transactionId, amount: 41 })).body.id,
      );
      expect(tooMuch).toMatchObject({ state: 'FAILURE', attempts: 1, error: { type: 'RefundRejected' } });
      expect(tooMuch.error.message).toContain('exceeds the 40 points consumed');

      const refund = await client.waitForTask(
        (await client.post(`/credits/accounts/${acc.id}/refund`, { transactionId, amount: 15, reason: 'partial' })).body
          .id,
      );
      expect(refund).toMatchObject({ state: 'SUCCESS', result: { kind: 'REFUND', amount: 15, balance: 75 } });

      const twice = await client.waitForTask(
        (await client.post(`/credits/accounts/${acc.id}/refund`, { transactionId })).body.id,
      );
      expect(twice).toMatchObject({ state: 'FAILURE', error: { type: 'RefundRejected' } });
      expect(twice.error.message).toContain('already refunded');

      const grantRow = (await client.get(`/credits/accounts/${acc.id}/transactions`)).body.items.find(
        (t: { kind: string }) => t.kind === 'GRANT',
      );
      const notAConsume = await client.waitForTask(
        (await client.post(`/credits/accounts/${acc.id}/refund`, { transactionId: grantRow.id })).body.id,
      );
      expect(notAConsume).toMatchObject({ state: 'FAILURE', error: { type: 'RefundRejected' } });
      expect(await balanceOf(client, acc.id)).toBe(75);
      const refundRow = (await client.get(`/credits/accounts/${acc.id}/transactions?limit=1`)).body.items[0];
      expect(refundRow).toMatchObject({ kind: 'REFUND', amount: 15, relatedId: transactionId });
    });

    it("refunds another account's consume never", async () => {
      const a = await createAccount(client, { openingGrant: { amount: 10 } });
      const b = await createAccount(client, { openingGrant: { amount: 10 } });
      const consume = await client.waitForTask(
        (await client.post(`/credits/accounts/${a.id}/consume`, { amount: 10 })).body.id,
      );
      const cross = await client.waitForTask(
        (await client.post(`/credits/accounts/${b.id}/refund`, { transactionId: consume.result.transactionId })).body
          .id,
      );
      expect(cross).toMatchObject({ state: 'FAILURE', error: { type: 'RefundRejected' } });
      expect([await balanceOf(client, a.id), await balanceOf(client, b.id)]).toEqual([0, 10]);
    });
  });

  it('transfers between two accounts and replays a repeated key', async () => {
    const a = await createAccount(client, { openingGrant: { amount: 50 } });
    const b = await createAccount(client);
    const body = { fromAccountId: a.id, toAccountId: b.id, amount: 20, idempotencyKey: 'move-1' };
    const first = await client.waitForTask((await client.post('/credits/transfers', body)).body.id);
    expect(first).toMatchObject({ state: 'SUCCESS', result: { fromBalance: 30, toBalance: 20, duplicate: false } });
    const twin = await client.waitForTask((await client.submit('tasks.credits.transfer', body)).id);
    expect(twin.result).toMatchObject({ transactionId: first.result.transactionId, duplicate: true });
    const short = await client.waitForTask(
      (await client.post('/credits/transfers', { ...body, amount: 31, idempotencyKey: 'move-2' })).body.id,
    );
    expect(short).toMatchObject({ state: 'FAILURE', error: { type: 'InsufficientCredits' } });
    expect([await balanceOf(client, a.id), await balanceOf(client, b.id)]).toEqual([30, 20]);
  });

  describe('expiry (TZ = Asia/Shanghai)', () => {
    it('expires what is left of grants at the end of their local day, once', async () => {
      const acc = await createAccount(client, { openingGrant: { amount: 30 } });
      const first = await client.waitForTask(
        (await client.post(`/credits/accounts/${acc.id}/grant`, { amount: 100, expiresOn: DAY1 })).body.id,
      );
      expect(first.result).toMatchObject({ kind: 'GRANT', amount: 100, expiresAt: `${DAY1}T16:00:00.000Z` });
      await client.waitForTask(
        (await client.post(`/credits/accounts/${acc.id}/grant`, { amount: 50, expiresOn: DAY2 })).body.id,
      );
      // Debits spend the earliest-expiring grant first: 30 of the 100 are gone.
      await client.waitForTask((await client.post(`/credits/accounts/${acc.id}/consume`, { amount: 30 })).body.id);
      expect((await client.get(`/credits/accounts/${acc.id}`)).body).toMatchObject({
        balance: 150,
        expiringBalance: 120,
      });

      // Days ahead are reached the way the scheduler reaches them (owner null): a caller may not
      // pass an asOf in the future (see the next test).
      const { TaskSubmissionService } = await import('../src/tasks/submit/task-submission.service');
      const expire = async (asOf: string) => {
        const { run } = await svc.service.app
          .get(TaskSubmissionService)
          .submitByName({ name: 'tasks.credits.expire', args: { asOf, accountId: acc.id }, owner: null });
        return (await admin.waitForTask(run.id)).result;
      };
      // One millisecond before local midnight at the end of DAY1 in Shanghai: nothing is due.
      expect(await expire(`${DAY1}T15:59:59.999Z`)).toMatchObject({ grants: 0, points: 0 });
      expect(await balanceOf(client, acc.id)).toBe(150);
      // At local midnight the first grant's remaining 70 expire; the second grant is untouched.
      expect(await expire(`${DAY1}T16:00:00.000Z`)).toMatchObject({ accounts: 1, grants: 1, points: 70 });
      expect((await client.get(`/credits/accounts/${acc.id}`)).body).toMatchObject({
        balance: 80,
        expiringBalance: 50,
      });
      expect(await expire(`${DAY1}T16:00:00.000Z`)).toMatchObject({ grants: 0, points: 0 });
      const [latest] = (await client.get(`/credits/accounts/${acc.id}/transactions?limit=1`)).body.items;
      expect(latest).toMatchObject({
        kind: 'EXPIRE',
        amount: -70,
        balanceAfter: 80,
        relatedId: first.result.transactionId,
      });
      // The next day's run takes the second grant.
      expect(await expire(`${DAY2}T16:00:00.000Z`)).toMatchObject({ grants: 1, points: 50 });
      expect((await client.get(`/credits/accounts/${acc.id}`)).body).toMatchObject({ balance: 30, expiringBalance: 0 });
    });

    it("refuses a caller's asOf in the future: 400 naming asOf, or a failed task through POST /tasks", async () => {
      const acc = await createAccount(client, { openingGrant: { amount: 10 } });
      await client.waitForTask(
        (await client.post(`/credits/accounts/${acc.id}/grant`, { amount: 77, expiresOn: DAY1 })).body.id,
      );
      const refused = await admin.post('/credits/expire', { asOf: `${DAY2}T00:00:00.000Z`, accountId: acc.id });
      expect(refused.status).toBe(400);
      expect(refused.body.errors).toEqual([expect.objectContaining({ field: 'asOf', rule: 'notInFuture' })]);
      const viaTasks = await admin.submit('tasks.credits.expire', { asOf: `${DAY2}T00:00:00.000Z`, accountId: acc.id });
      expect(await admin.waitForTask(viaTasks.id)).toMatchObject({
        state: 'FAILURE',
        error: { type: 'AsOfInFuture', message: expect.stringContaining('args.asOf') },
      });
      // The points valid until DAY1 are all still there.
      expect(await balanceOf(client, acc.id)).toBe(87);
    });

    it('does not let a consume spend points past their date, even before the daily run', async () => {
      const acc = await createAccount(client, { openingGrant: { amount: 10 } });
      await client.waitForTask(
        (
          await client.post(`/credits/accounts/${acc.id}/grant`, {
            amount: 100,
            expiresAt: new Date(Date.now() - 3600_000).toISOString(),
          })
        ).body.id,
      );
      expect(await balanceOf(client, acc.id)).toBe(110);
      const tooMuch = await client.waitForTask(
        (await client.post(`/credits/accounts/${acc.id}/consume`, { amount: 50 })).body.id,
      );
      expect(tooMuch).toMatchObject({ state: 'FAILURE', error: { type: 'InsufficientCredits' } });
      expect(tooMuch.error.message).toContain('holds 10 points');
      const ok = await client.waitForTask(
        (await client.post(`/credits/accounts/${acc.id}/consume`, { amount: 5 })).body.id,
      );
      expect(ok.result).toMatchObject({ balance: 5 });
      const kinds = (await client.get(`/credits/accounts/${acc.id}/transactions`)).body.items.map(
        (t: { kind: string }) => t.kind,
      );
      expect(kinds).toEqual(['CONSUME', 'EXPIRE', 'GRANT', 'GRANT']);
    });

    it('lets only the scheduler or an admin run expiry', async () => {
      expect((await client.post('/credits/expire', {})).status).toBe(403);
      const task = await client.submit('tasks.credits.expire', {});
      expect(await client.waitForTask(task.id)).toMatchObject({ state: 'FAILURE', error: { type: 'Forbidden' } });
      expect((await admin.post('/credits/expire', { asOf: 'yesterday' })).status).toBe(400);
    });

    it('submits one daily run per local day, keyed by the Shanghai date', async () => {
      const { CreditExpiryScheduler } = await import('../src/credits/credit-expiry.scheduler');
      const scheduler = svc.service.app.get(CreditExpiryScheduler);
      // 00:00:30 on the day after DAY2 in Shanghai is still DAY2 in UTC.
      await scheduler.submitDaily(new Date(`${DAY2}T16:00:30Z`));
      await scheduler.submitDaily(new Date(`${DAY2}T16:00:31Z`));
      const runs = await db.query(`SELECT id, owner, args FROM task_runs WHERE idempotency_key = $1`, [
        `credits-expire-${addDays(DAY2, 1)}`,
      ]);
      expect(runs).toHaveLength(1);
      expect(runs[0]).toMatchObject({ owner: null, args: { asOf: `${DAY2}T16:00:30.000Z` } });
      expect(await admin.waitForTask(runs[0].id)).toMatchObject({ state: 'SUCCESS' });
    });
  });

  it('keeps the ledger append-only in the database itself', async () => {
    await expect(
      db.query(`UPDATE credit_transactions SET amount = amount WHERE account_id = $1`, [account.id]),
    ).rejects.toThrow('append-only');
    await expect(db.query(`DELETE FROM credit_transactions WHERE account_id = $1`, [account.id])).rejects.toThrow(
      'append-only',
    );
  });
});

import { DataSource } from 'typeorm';
import { ApiClient } from './support/api-client';
import { startTestService, TestService } from './support/test-service';
import { balanceOf, createAccount, ledgerViolations, waitForFinal } from './credits-helpers';

// These specs wait on real workers: set their timeout here, whatever the Jest config says.
jest.setTimeout(120_000);

describe('Credits under concurrency: no double spend, no lost point', () => {
  let svc: TestService;
  let client: ApiClient;
  let db: DataSource;

  beforeAll(async () => {
    svc = await startTestService({ QUEUE_CONCURRENCY: 'credits=16' });
    client = await svc.newClient('concurrency-client');
    db = svc.service.app.get(DataSource);
  });
  afterAll(() => svc?.stop());

  it('1,000 consume(1) tasks at once against 500 points: exactly 500 succeed', async () => {
    const account = await createAccount(client, { openingGrant: { amount: 500 } });
    // Four concurrent batches of 250 (one request of 1,000 exceeds the default 100 kB JSON body limit).
    const batch = Array.from({ length: 250 }, () => ({
      name: 'tasks.credits.consume',
      args: { accountId: account.id, amount: 1 },
    }));
    const responses = await Promise.all([1, 2, 3, 4].map(() => client.post('/tasks/batch', { tasks: batch })));
    expect(responses.map((r) => r.status)).toEqual([202, 202, 202, 202]);
    const ids = responses.flatMap((r) => r.body.tasks.map((t: { id: string }) => t.id));
    expect(new Set(ids).size).toBe(1000);
    const runs = await waitForFinal(db, ids, 90_000);

    const succeeded = runs.filter((r) => r.state === 'SUCCESS');
    const failed = runs.filter((r) => r.state === 'FAILURE');
    expect([succeeded.length, failed.length]).toEqual([500, 500]);
    expect(new Set(failed.map((r) => r.error.type))).toEqual(new Set(['InsufficientCredits']));
    expect(failed.every((r) => r.attempts === 1)).toBe(true);
    // Every successful consume saw a different balance: 499 down to 0.
    expect(new Set(succeeded.map((r) => r.result.balance)).size).toBe(500);
    expect(await balanceOf(client, account.id)).toBe(0);
    const [{ consumes }] = await db.query(
      `SELECT count(*)::int AS consumes FROM credit_transactions WHERE account_id = $1 AND kind = 'CONSUME'`,
      [account.id],
    );
    expect(consumes).toBe(500);
    expect(await ledgerViolations(db, [account.id])).toEqual([]);
  });

  it('100 copies of one consume submitted at once are charged once', async () => {
    const account = await createAccount(client, { openingGrant: { amount: 1000 } });
    const copy = {
      name: 'tasks.credits.consume',
      args: { accountId: account.id, amount: 7, idempotencyKey: 'one-charge' },
    };
    const other = { name: 'tasks.credits.consume', args: { accountId: account.id, amount: 1 } };
    // Interleaved with distinct consumes, so copies and non-copies share batches.
    const response = await client.post('/tasks/batch', {
      tasks: Array.from({ length: 200 }, (_, i) => (i % 2 === 0 ? copy : other)),
    });
    expect(response.status).toBe(202);
    const runs = await waitForFinal(
      db,
      response.body.tasks.map((t: { id: string }) => t.id),
      60_000,
    );
    expect(runs.filter((r) => r.state !== 'SUCCESS')).toEqual([]);
    const copies = runs.filter((r) => r.result.amount === 7);
    expect(copies.filter((r) => !r.result.duplicate)).toHaveLength(1);
    expect(new Set(copies.map((r) => r.result.transactionId)).size).toBe(1);
    expect(await balanceOf(client, account.id)).toBe(1000 - 7 - 100);
    expect(await ledgerViolations(db, [account.id])).toEqual([]);
  });

  it('sorts a mixed burst correctly: own, foreign, expiring and short accounts in the same batches', async () => {
    const mine = await createAccount(client, { openingGrant: { amount: 100 } });
    const short = await createAccount(client, { openingGrant: { amount: 10 } });
    const expiring = await createAccount(client, { openingGrant: { amount: 20 } });
    await client.waitForTask(
      (await client.post(`/credits/accounts/${expiring.id}/grant`, { amount: 30, expiresOn: '2099-12-31' })).body.id,
    );
    const foreign = await createAccount(await svc.newClient('concurrency-other'), { openingGrant: { amount: 100 } });
    const kinds = [mine.id, short.id, expiring.id, foreign.id];
    const tasks = Array.from({ length: 160 }, (_, i) => ({
      name: 'tasks.credits.consume',
      args: { accountId: kinds[i % 4], amount: 1 },
    }));
    const response = await client.post('/tasks/batch', { tasks });
    const ids: string[] = response.body.tasks.map((t: { id: string }) => t.id);
    const byId = new Map((await waitForFinal(db, ids, 60_000)).map((r) => [r.id, r]));
    const outcome = (accountId: string) => {
      const of = ids.filter((_, i) => tasks[i].args.accountId === accountId).map((id) => byId.get(id)!);
      return {
        ok: of.filter((r) => r.state === 'SUCCESS').length,
        failed: [...new Set(of.filter((r) => r.state !== 'SUCCESS').map((r) => r.error.type))],
      };
    };
    expect(outcome(mine.id)).toEqual({ ok: 40, failed: [] });
    expect(outcome(short.id)).toEqual({ ok: 10, failed: ['InsufficientCredits'] });
    expect(outcome(expiring.id)).toEqual({ ok: 40, failed: [] });
    expect(outcome(foreign.id)).toEqual({ ok: 0, failed: ['UnknownAccount'] });
    // The expiring account spent its expiring grant first: 30 expiring, then 10 of the 20 without expiry.
    expect((await client.get(`/credits/accounts/${expiring.id}`)).body).toMatchObject({
      balance: 10,
      expiringBalance: 0,
    });
    expect([
      await balanceOf(client, mine.id),
      await balanceOf(client, short.id),
      await balanceOf(svc.admin, foreign.id),
    ]).toEqual([60, 0, 100]);
    expect(await ledgerViolations(db, kinds)).toEqual([]);
  });

  it('200 concurrent transfers in both directions preserve the total', async () => {
    const a = await createAccount(client, { openingGrant: { amount: 1000 } });
    const b = await createAccount(client, { openingGrant: { amount: 1000 } });
    // Some of the accounts' points expire later: transfers then also draw down lots.
    await client.waitForTask(
      (await client.post(`/credits/accounts/${a.id}/grant`, { amount: 300, expiresOn: '2099-01-01' })).body.id,
    );
    const tasks = Array.from({ length: 200 }, (_, i) => {
      const [from, to] = i % 2 === 0 ? [a.id, b.id] : [b.id, a.id];
      return {
        name: 'tasks.credits.transfer',
        args: { fromAccountId: from, toAccountId: to, amount: 1 + ((i * 37) % 50) },
      };
    });
    const response = await client.post('/tasks/batch', { tasks });
    expect(response.status).toBe(202);
    const runs = await waitForFinal(
      db,
      response.body.tasks.map((t: { id: string }) => t.id),
      90_000,
    );

    // Anything that failed failed for a business reason; none for a deadlock left unretried.
    const failures = runs.filter((r) => r.state !== 'SUCCESS');
    expect(failures.filter((r) => r.error?.type !== 'InsufficientCredits')).toEqual([]);
    const balances = [await balanceOf(client, a.id), await balanceOf(client, b.id)];
    expect(balances[0] + balances[1]).toBe(2300);
    expect(Math.min(...balances)).toBeGreaterThanOrEqual(0);
    const [{ moved }] = await db.query(
      `SELECT COALESCE(SUM(amount), 0)::int AS moved FROM credit_transactions WHERE account_id = ANY($1::uuid[]) AND kind IN ('TRANSFER_IN', 'TRANSFER_OUT')`,
      [[a.id, b.id]],
    );
    expect(moved).toBe(0);
    const [{ pairs }] = await db.query(
      `SELECT count(*)::int AS pairs FROM credit_transactions WHERE account_id = $1 AND kind = 'TRANSFER_OUT' OR account_id = $2 AND kind = 'TRANSFER_OUT'`,
      [a.id, b.id],
    );
    expect(pairs).toBe(runs.length - failures.length);
    expect(await ledgerViolations(db, [a.id, b.id])).toEqual([]);
  });
});

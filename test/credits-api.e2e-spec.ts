import { DataSource } from 'typeorm';
import { ApiClient } from './support/api-client';
import { startTestService, TestService } from './support/test-service';
import { balanceOf, createAccount, ledgerViolations } from './credits-helpers';

// These specs wait on real workers: set their timeout here, whatever the Jest config says.
jest.setTimeout(120_000);

describe('Credits API (PostgreSQL + Redis)', () => {
  let svc: TestService;
  let client: ApiClient;
  let db: DataSource;

  beforeAll(async () => {
    svc = await startTestService();
    client = await svc.newClient('credits-client');
    db = svc.service.app.get(DataSource);
  });
  afterAll(() => svc?.stop());
  afterEach(async () => expect(await ledgerViolations(db)).toEqual([]));

  it('creates an account with an opening grant, consumes, and lists the ledger newest first', async () => {
    const account = await createAccount(client, {
      externalUserId: 'user-1',
      openingGrant: { amount: 100, reason: 'welcome' },
    });
    expect(account).toMatchObject({ externalUserId: 'user-1', balance: 100, expiringBalance: 0 });

    const task = (await client.post(`/credits/accounts/${account.id}/consume`, { amount: 30, reference: 'order-1' }))
      .body;
    expect(task).toMatchObject({ name: 'tasks.credits.consume', queue: 'credits', state: 'PENDING' });
    const done = await client.waitForTask(task.id);
    expect(done).toMatchObject({
      state: 'SUCCESS',
      result: { kind: 'CONSUME', amount: 30, balance: 70, duplicate: false },
    });
    expect(await balanceOf(client, account.id)).toBe(70);

    const page = (await client.get(`/credits/accounts/${account.id}/transactions?limit=1`)).body;
    expect(page.items).toEqual([
      expect.objectContaining({
        kind: 'CONSUME',
        amount: -30,
        balanceAfter: 70,
        reference: 'order-1',
        taskId: task.id,
      }),
    ]);
    const next = (await client.get(`/credits/accounts/${account.id}/transactions?limit=1&cursor=${page.nextCursor}`))
      .body;
    expect(next.items).toEqual([
      expect.objectContaining({ kind: 'GRANT', amount: 100, balanceAfter: 100, reason: 'welcome' }),
    ]);
    expect(next.nextCursor).toBeNull();

    const duplicate = await client.post('/credits/accounts', { externalUserId: 'user-1' });
    expect(duplicate.status).toBe(409);
    expect(duplicate.body.accountId).toBe(account.id);
  });

  it('fails an insufficient consume at once, without retry, and leaves the balance alone', async () => {
    const account = await createAccount(client, { openingGrant: { amount: 5 } });
    const task = (await client.post(`/credits/accounts/${account.id}/consume`, { amount: 6 })).body;
    const done = await client.waitForTask(task.id);
    expect(done).toMatchObject({ state: 'FAILURE', attempts: 1, error: { type: 'InsufficientCredits' } });
    expect(done.error.message).toContain('holds 5 points, 6 requested');
    expect(await balanceOf(client, account.id)).toBe(5);
  });

  it('charges once for one idempotency key, whether submitted twice or delivered twice', async () => {
    const account = await createAccount(client, { openingGrant: { amount: 50 } });
    // Two distinct tasks through the generic endpoint, one ledger key.
    const first = await client.submit('tasks.credits.consume', {
      accountId: account.id,
      amount: 10,
      idempotencyKey: 'charge-1',
    });
    const second = await client.submit('tasks.credits.consume', {
      accountId: account.id,
      amount: 10,
      idempotencyKey: 'charge-1',
    });
    const [a, b] = [await client.waitForTask(first.id), await client.waitForTask(second.id)];
    expect([a.state, b.state]).toEqual(['SUCCESS', 'SUCCESS']);
    expect([a.result.duplicate, b.result.duplicate].sort()).toEqual([false, true]);
    expect(a.result.transactionId).toBe(b.result.transactionId);
    expect(await balanceOf(client, account.id)).toBe(40);

    // The domain endpoint returns the first task for a repeated key (200).
    const viaDomain = await client.post(`/credits/accounts/${account.id}/consume`, {
      amount: 7,
      idempotencyKey: 'charge-2',
    });
    const again = await client.post(`/credits/accounts/${account.id}/consume`, {
      amount: 7,
      idempotencyKey: 'charge-2',
    });
    expect([viaDomain.status, again.status]).toEqual([202, 200]);
    expect(again.body.id).toBe(viaDomain.body.id);
    await client.waitForTask(viaDomain.body.id);

    // The same key for a different amount is a conflict, not a second charge.
    const conflicting = await client.waitForTask(
      (await client.submit('tasks.credits.consume', { accountId: account.id, amount: 8, idempotencyKey: 'charge-1' }))
        .id,
    );
    expect(conflicting).toMatchObject({ state: 'FAILURE', error: { type: 'IdempotencyConflict' } });
    expect(await balanceOf(client, account.id)).toBe(33);
  });

  it('applies a consume once when its job is delivered again', async () => {
    const account = await createAccount(client, { openingGrant: { amount: 20 } });
    const task = await client.submit('tasks.credits.consume', { accountId: account.id, amount: 4 });
    const done = await client.waitForTask(task.id);
    expect(done.result).toMatchObject({ balance: 16, duplicate: false });
    // Redeliver: drop the finished job and queue the same task id again, as a stalled-job recovery does.
    const { TaskQueues } = await import('../src/tasks/queues/task-queues.service');
    const { TaskEnqueuer } = await import('../src/tasks/submit/task-enqueuer');
    const queue = svc.service.app.get(TaskQueues).get('credits');
    // The record says SUCCESS a moment before BullMQ moves the job to completed.
    const settle = Date.now() + 10_000;
    while (!(await (await queue.getJob(task.id))?.isCompleted()) && Date.now() < settle)
      await new Promise((r) => setTimeout(r, 50));
    await (await queue.getJob(task.id))!.remove();
    const [run] = await db.query(`SELECT * FROM task_runs WHERE id = $1`, [task.id]);
    await svc.service.app.get(TaskEnqueuer).requeue({ ...run, runAt: run.run_at });
    const deadline = Date.now() + 20_000;
    while (!(await (await queue.getJob(task.id))?.isCompleted())) {
      if (Date.now() > deadline) throw new Error('The redelivered job did not complete');
      await new Promise((r) => setTimeout(r, 100));
    }
    // The second run found the ledger entry of the first and applied nothing...
    expect((await queue.getJob(task.id))!.returnvalue).toMatchObject({
      transactionId: done.result.transactionId,
      balance: 16,
      duplicate: true,
    });
    // ...and the record keeps the first run's outcome: a finished task is never rewritten.
    const redelivered = (await client.get(`/tasks/${task.id}`)).body;
    expect(redelivered).toMatchObject({ state: 'SUCCESS', result: done.result });
    expect(await balanceOf(client, account.id)).toBe(16);
    const [{ count }] = await db.query(`SELECT count(*)::int AS count FROM credit_transactions WHERE task_id = $1`, [
      task.id,
    ]);
    expect(count).toBe(1);
  });
});

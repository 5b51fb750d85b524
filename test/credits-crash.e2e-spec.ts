import { ApiWithWorkerProcesses } from './support/worker-processes';
import { balanceOf, createAccount, ledgerViolations, waitForFinal } from './credits-helpers';

// These specs wait on real workers: set their timeout here, whatever the Jest config says.
jest.setTimeout(120_000);

const TASKS = 600;

/** An api in this process; the credits worker is a child process that the test kills. */
describe('Credits survive a worker killed with SIGKILL mid-batch', () => {
  let deployment: ApiWithWorkerProcesses;

  const startWorker = () => deployment.startWorker({ WORKER_QUEUES: 'credits', QUEUE_CONCURRENCY: 'credits=8' });

  beforeAll(async () => {
    deployment = await ApiWithWorkerProcesses.start();
  });
  afterAll(() => deployment?.stop());

  it('every task ends final, each consume is applied once, and the ledger equals the balances', async () => {
    const client = await deployment.api.newClient('crash-client');
    const db = deployment.db;
    const account = await createAccount(client, { openingGrant: { amount: 1000 } });
    const first = await startWorker();

    const batch = () =>
      Array.from({ length: TASKS / 3 }, () => ({
        name: 'tasks.credits.consume',
        args: { accountId: account.id, amount: 1 },
      }));
    const responses = await Promise.all([1, 2, 3].map(() => client.post('/tasks/batch', { tasks: batch() })));
    expect(responses.map((r) => r.status)).toEqual([202, 202, 202]);
    const ids: string[] = responses.flatMap((r) => r.body.tasks.map((t: { id: string }) => t.id));

    // Kill the worker once part of the batch is applied: some jobs are in flight, some not started.
    const deadline = Date.now() + 30_000;
    let applied = 0;
    while (applied < 60) {
      if (Date.now() > deadline)
        throw new Error(`Only ${applied} consumes were applied in 30 s:\n${first.output().slice(-2000)}`);
      [{ applied }] = await db.query(
        `SELECT count(*)::int AS applied FROM credit_transactions WHERE account_id = $1 AND kind = 'CONSUME'`,
        [account.id],
      );
      await new Promise((r) => setTimeout(r, 10));
    }
    await deployment.kill(first);
    const [{ atKill }] = await db.query(
      `SELECT count(*)::int AS "atKill" FROM credit_transactions WHERE account_id = $1 AND kind = 'CONSUME'`,
      [account.id],
    );
    expect(atKill).toBeLessThan(TASKS);

    await startWorker();
    const runs = await waitForFinal(db, ids, 90_000);
    expect(runs.filter((r) => r.state !== 'SUCCESS')).toEqual([]);
    const replayed = runs.filter((r) => r.result.duplicate).length;
    process.stdout.write(
      `credits crash test: ${atKill} consumes applied at the kill, ${replayed} re-delivered jobs replayed their first result\n`,
    );

    // Exactly one CONSUME per task, however often a job ran.
    const [{ rows, tasks }] = await db.query(
      `SELECT count(*)::int AS rows, count(DISTINCT task_id)::int AS tasks FROM credit_transactions WHERE account_id = $1 AND kind = 'CONSUME'`,
      [account.id],
    );
    expect([rows, tasks]).toEqual([TASKS, TASKS]);
    expect(await balanceOf(client, account.id)).toBe(1000 - TASKS);
    expect(await ledgerViolations(db, [account.id])).toEqual([]);
  });
});

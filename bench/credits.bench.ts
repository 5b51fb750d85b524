/**
 * Consumes per second that one credits worker process sustains, each consume a committed
 * PostgreSQL transaction (ledger row + conditional balance update) and a task record that
 * ends SUCCESS. N consume(1) tasks are queued first, then one worker (credits queue only) is
 * started and timed until every task is final. Two shapes of load:
 *   spread — the tasks round-robin over BENCH_ACCOUNTS accounts (many users spending);
 *   hot    — all on one account (every consume waits for the previous one's row lock).
 * Afterwards the ledger is checked: every task SUCCESS, balance = SUM(ledger) on every account.
 *
 * Usage: npm run bench:credits [-- N]   (default N = 20000; BENCH_CONCURRENCY default 64,
 *        BENCH_ACCOUNTS default 100; PostgreSQL and Redis as in bench/support.ts)
 */
import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { ApiKeyService } from '../src/auth/api-key.service';
import { RunningService, startService } from '../src/bootstrap';
import { AppConfig } from '../src/config/app-config';
import { CreditAccountsService } from '../src/credits/credit-accounts.service';
import { TaskSubmissionService } from '../src/tasks/submit/task-submission.service';
import { createBenchDatabase, fmt, REDIS_URL, uniquePrefix } from './support';

const N = Number(process.argv[2] ?? 20_000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 64);
const ACCOUNTS = Number(process.env.BENCH_ACCOUNTS ?? 100);
const OPENING = 1_000_000_000;

function serviceEnv(databaseUrl: string, prefix: string, role: string, queue = 'credits'): Record<string, string> {
  return {
    DATABASE_URL: databaseUrl,
    REDIS_URL,
    QUEUE_PREFIX: prefix,
    ROLE: role,
    PORT: '0',
    LOG_LEVEL: 'error',
    WORKER_QUEUES: queue,
    WORKER_CONCURRENCY: String(CONCURRENCY),
    CREDITS_EXPIRE_CRON: 'off',
  };
}

/** Queues N tasks, then starts one worker for `queue` and times it until none is open. */
async function drain(
  api: RunningService,
  databaseUrl: string,
  prefix: string,
  queue: string,
  task: (i: number) => { name: string; owner: string | null; args: object },
) {
  const db = api.app.get(DataSource);
  const submission = api.app.get(TaskSubmissionService);
  for (let i = 0; i < N; i += 1000) {
    await submission.submitMany(Array.from({ length: Math.min(1000, N - i) }, (_, j) => task(i + j)));
  }
  const open = async () =>
    Number((await db.query(`SELECT count(*) AS n FROM task_runs WHERE state IN ('PENDING', 'STARTED', 'RETRY')`))[0].n);
  const start = performance.now();
  const worker = await startService(AppConfig.fromEnv(serviceEnv(databaseUrl, prefix, 'worker', queue)));
  while ((await open()) > 0) await new Promise((r) => setTimeout(r, 20));
  const seconds = (performance.now() - start) / 1000;
  await worker.stop();
  return seconds;
}

async function scenario(
  label: string,
  api: RunningService,
  databaseUrl: string,
  prefix: string,
  owner: string,
  accounts: string[],
) {
  const db = api.app.get(DataSource);
  const seconds = await drain(api, databaseUrl, prefix, 'credits', (i) => ({
    name: 'tasks.credits.consume',
    owner,
    args: { accountId: accounts[i % accounts.length], amount: 1 },
  }));

  const [states] = await db.query(
    `SELECT count(*) FILTER (WHERE state = 'SUCCESS') AS ok, count(*) FILTER (WHERE state <> 'SUCCESS') AS bad FROM task_runs WHERE name = 'tasks.credits.consume'`,
  );
  const [ledger] = await db.query(
    `SELECT (SELECT count(*) FROM credit_transactions WHERE kind = 'CONSUME' AND account_id = ANY($1::uuid[])) AS consumes,
            (SELECT count(*) FROM credit_accounts a WHERE a.id = ANY($1::uuid[]) AND a.balance <> (SELECT SUM(amount) FROM credit_transactions t WHERE t.account_id = a.id)) AS unbalanced`,
    [accounts],
  );
  await db.query(`DELETE FROM task_runs`);
  return {
    label,
    rate: N / seconds,
    seconds,
    ok: Number(states.ok),
    bad: Number(states.bad),
    consumes: Number(ledger.consumes),
    unbalanced: Number(ledger.unbalanced),
  };
}

async function main() {
  const database = await createBenchDatabase();
  const prefix = uniquePrefix('credits');
  let api: RunningService | undefined;
  try {
    api = await startService(AppConfig.fromEnv(serviceEnv(database.url, prefix, 'api')));
    const { key } = await api.app.get(ApiKeyService).create('bench-client', 'client');
    const accountsService = api.app.get(CreditAccountsService);
    const create = async () => (await accountsService.create(key.id, { openingGrant: { amount: OPENING } })).id;
    const spread = await Promise.all(Array.from({ length: ACCOUNTS }, create));
    const hot = [await create()];

    console.log(
      `N = ${fmt(N)} consume(1) tasks per scenario, one worker process, concurrency ${CONCURRENCY}, Redis ${REDIS_URL}\n`,
    );
    console.log(`${'scenario'.padEnd(28)} ${'tasks/s'.padStart(10)} ${'seconds'.padStart(8)}  ledger check`);
    // The platform's own ceiling on this machine right now: the same pipeline running no-op tasks.
    const noop = await drain(api, database.url, prefix, 'default', (i) => ({
      name: 'tasks.system.noop',
      owner: null,
      args: { i },
    }));
    await api.app.get(DataSource).query(`DELETE FROM task_runs`);
    console.log(`${'no-op tasks (baseline)'.padEnd(28)} ${fmt(N / noop).padStart(10)} ${fmt(noop, 1).padStart(8)}  -`);
    for (const [label, accounts] of [
      [`spread over ${ACCOUNTS} accounts`, spread],
      ['hot (one account)', hot],
    ] as const) {
      const r = await scenario(label, api, database.url, prefix, key.id, [...accounts]);
      const check =
        r.ok === N && r.bad === 0 && r.consumes === N && r.unbalanced === 0
          ? 'ok'
          : `FAILED (success ${r.ok}, other ${r.bad}, ledger rows ${r.consumes}, unbalanced accounts ${r.unbalanced})`;
      console.log(`${r.label.padEnd(28)} ${fmt(r.rate).padStart(10)} ${fmt(r.seconds, 1).padStart(8)}  ${check}`);
    }
  } finally {
    await api?.stop();
    await database.drop();
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);

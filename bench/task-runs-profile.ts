/**
 * What a final-state batch UPDATE on task_runs costs, and what its indexes and fillfactor change:
 * a table of OLD finished rows plus NEW pending ones, then the record writer's statement shape
 * (`WORKER_PATCH_SQL`, 200 rows a batch, one commit each) over the pending ones, which live in the
 * default partition (uuid4 ids).
 * Per variant: ms per batch (p50), rows/s, HOT share of the updates (pg_stat_user_tables), and
 * one EXPLAIN (ANALYZE, BUFFERS) of a batch.
 *
 * Usage: node -r @swc-node/register bench/task-runs-profile.ts   (OLD=100000 NEW=20000 BATCH=200;
 *        an embedded PostgreSQL unless BENCH_POSTGRES_URL is set)
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { startEmbeddedPostgres } from '../src/database/embedded-postgres';
import { migrations } from '../src/database/migrations';
import { WORKER_PATCH_SQL } from '../src/tasks/records/task-run.store';
import { createBenchDatabase, fmt, machineLoad, percentile } from './support';

const OLD = Number(process.env.OLD ?? 100_000);
const NEW = Number(process.env.NEW ?? 20_000);
const BATCH = Number(process.env.BATCH ?? 200);

// The writer's own statement (its NOTIFY tail included).
const UPDATE_SQL = WORKER_PATCH_SQL;

const VARIANTS: { label: string; sql: string[] }[] = [
  { label: 'as migrated (every index)', sql: [] },
  // The rows' ids are uuid4s, so they live in the default partition.
  {
    label: 'fillfactor 70',
    sql: ['ALTER TABLE task_runs_default SET (fillfactor = 70)', 'VACUUM FULL task_runs_default'],
  },
  { label: 'without task_runs_finished', sql: ['DROP INDEX task_runs_finished'] },
  { label: '… and without task_runs_open', sql: ['DROP INDEX task_runs_open'] },
  {
    label: 'primary key only (lower bound)',
    sql: [
      'DROP INDEX task_runs_created',
      'DROP INDEX task_runs_owner_created',
      'DROP INDEX task_runs_name_created',
      'DROP INDEX task_runs_state_created',
      'DROP INDEX task_runs_parent',
      'DROP INDEX task_runs_outbox',
    ],
  },
];

async function insertRows(client: Client, count: number, state: string): Promise<void> {
  await client.query(
    `INSERT INTO task_runs (id, name, queue, owner, args, state, attempts, max_attempts, run_at, created_at, updated_at,
       finished_at, enqueued_at)
     SELECT gen_random_uuid(), 'tasks.system.noop', 'default', NULL, jsonb_build_object('i', g), $2::varchar, 0, 1, now(), now(), now(),
       CASE WHEN $2::varchar = 'SUCCESS' THEN now() END, now()
     FROM generate_series(1, $1) g`,
    [count, state],
  );
}

async function runVariant(client: Client) {
  await insertRows(client, NEW, 'PENDING');
  await client.query('ANALYZE task_runs');
  const ids: string[] = (await client.query(`SELECT id FROM task_runs WHERE state = 'PENDING'`)).rows.map((r) => r.id);
  const stat = async () =>
    (
      await client.query(
        `SELECT n_tup_upd::int AS upd, n_tup_hot_upd::int AS hot FROM pg_stat_user_tables WHERE relname = 'task_runs_default'`,
      )
    ).rows[0] as { upd: number; hot: number };
  await client.query('SELECT pg_stat_force_next_flush()');
  const before = await stat();
  const doc = (id: string) => ({
    id,
    state: 'SUCCESS',
    attempts: 1,
    workerId: 'bench-worker',
    startedAt: new Date().toISOString(),
    finishedAt: new Date().toISOString(),
    runtimeMs: 1,
    result: { i: 1 },
  });
  const times: number[] = [];
  let explain = '';
  const start = performance.now();
  for (let i = 0; i < ids.length; i += BATCH) {
    const docs = JSON.stringify(ids.slice(i, i + BATCH).map(doc));
    const t0 = performance.now();
    if (i === BATCH * 10) {
      const plan = await client.query(`EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) ${UPDATE_SQL}`, [docs]);
      explain = plan.rows.map((r) => r['QUERY PLAN']).join('\n');
    } else await client.query(UPDATE_SQL, [docs]);
    times.push(performance.now() - t0);
  }
  const rate = ids.length / ((performance.now() - start) / 1000);
  await client.query('SELECT pg_stat_force_next_flush()');
  await new Promise((r) => setTimeout(r, 600));
  const after = await stat();
  times.sort((a, b) => a - b);
  return {
    p50: percentile(times, 50),
    rate,
    hot: (after.hot - before.hot) / Math.max(1, after.upd - before.upd),
    explain,
  };
}

async function main() {
  // On a private embedded server by default: the shared one may be faulted by other runs.
  const dir = await mkdtemp(join(tmpdir(), 'bench-task-runs-'));
  const database = process.env.BENCH_POSTGRES_URL
    ? await createBenchDatabase()
    : await startEmbeddedPostgres(dir, 54_900 + Math.floor(Math.random() * 90)).then((db) => ({
        url: db.url,
        drop: db.stop,
      }));
  try {
    const source = new DataSource({ type: 'postgres', url: database.url, migrations });
    await source.initialize();
    await source.runMigrations();
    await source.destroy();
    const client = new Client({ connectionString: database.url });
    // Dropping the database on failure ends this connection too; the first error is the one to see.
    client.on('error', () => undefined);
    await client.connect();
    // As the writer's own connection runs (see TaskRecordWriter).
    await client.query('SET enable_hashjoin = off; SET enable_mergejoin = off');
    await insertRows(client, OLD, 'SUCCESS');
    console.log(
      `${fmt(OLD)} finished rows, then ${fmt(NEW)} pending finished in batches of ${BATCH}; ${machineLoad()}\n`,
    );
    console.log(`${'variant'.padEnd(34)} ${'ms/batch'.padStart(9)} ${'rows/s'.padStart(9)} ${'HOT'.padStart(6)}`);
    const plans: string[] = [];
    for (const variant of VARIANTS) {
      for (const sql of variant.sql) await client.query(sql);
      const r = await runVariant(client);
      console.log(
        `${variant.label.padEnd(34)} ${fmt(r.p50, 2).padStart(9)} ${fmt(r.rate).padStart(9)} ${`${fmt(r.hot * 100)}%`.padStart(6)}`,
      );
      plans.push(`-- ${variant.label}\n${r.explain}`);
    }
    console.log(`\nend: ${machineLoad()}\n\n${plans.join('\n\n')}`);
    await client.end();
  } finally {
    await database.drop();
    await rm(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);

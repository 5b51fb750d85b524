/**
 * bench:volume's fast seed (rollup triggers off, rollups folded once) against the triggers: the
 * same records (setseed, one fixed "now") seeded both ways into two databases, twice (the second
 * seed adds to existing rollups), then the rollup tables compared row for row. Per-minute rows
 * past their retention are deleted on both sides first, as the retention pass right after a
 * seed does (the fast seed leaves them out).
 *
 * Usage: node -r @swc-node/register bench/volume-seed.check.ts   (ROWS=50000; exits 1 on a difference)
 */
import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { migrations } from '../src/database/migrations';
import { ROLLUP_RETENTION_DAYS } from '../src/tasks/records/task-statistics.service';
import { createBenchDatabase, fmt } from './support';
import { newSeedIds, SEED_THROUGH_TRIGGERS_SQL, seedParams, seedRecords } from './volume-seed';

const ROWS = Number(process.env.ROWS ?? 50_000);
const TASKS = Array.from({ length: 19 }, (_, i) => ({
  name: `tasks.d${i % 5}.task${i}`,
  queue: ['default', 'email', 'files'][i % 3],
}));

async function migrated(): Promise<{ client: Client; drop(): Promise<void> }> {
  const database = await createBenchDatabase();
  const source = new DataSource({ type: 'postgres', url: database.url, migrations });
  await source.initialize();
  await source.runMigrations();
  await source.destroy();
  const client = new Client({ connectionString: database.url });
  await client.connect();
  return { client, drop: async () => (await client.end(), await database.drop()) };
}

async function main() {
  const [triggers, fast] = [await migrated(), await migrated()];
  try {
    const ids = newSeedIds(randomUUID(), 'unused', randomUUID);
    const now = new Date();
    for (const [from, seed] of [
      [1, 0.25],
      [ROWS + 1, 0.5],
    ]) {
      const to = from + ROWS - 1;
      await triggers.client.query('SELECT setseed($1)', [seed]);
      await triggers.client.query(SEED_THROUGH_TRIGGERS_SQL('window'), seedParams(from, to, TASKS, ids, now));
      await fast.client.query('SELECT setseed($1)', [seed]);
      await seedRecords(fast.client, from, to, TASKS, ids, { now: () => now });
    }
    let same = true;
    for (const table of ['task_run_rollups', 'task_run_runtime_rollups']) {
      const rows = async (client: Client) => {
        await client.query(
          `DELETE FROM ${table} WHERE span_minutes = 1 AND bucket < now() - make_interval(days => $1)`,
          [ROLLUP_RETENTION_DAYS.minutely],
        );
        return (await client.query(`SELECT * FROM ${table} ORDER BY 1, 2, 3, 4, 5`)).rows.map((r) => JSON.stringify(r));
      };
      const [expected, actual] = [await rows(triggers.client), await rows(fast.client)];
      const identical = expected.length === actual.length && expected.every((row, i) => row === actual[i]);
      same &&= identical;
      console.log(
        `${table}: triggers ${fmt(expected.length)} rows, fast seed ${fmt(actual.length)} rows, ${identical ? 'identical' : 'DIFFERENT'}`,
      );
    }
    if (!same) process.exitCode = 1;
  } finally {
    await triggers.drop();
    await fast.drop();
  }
}

main().then(
  () => process.exit(process.exitCode ?? 0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);

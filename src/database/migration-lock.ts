import { Client } from 'pg';
import { DataSource, Migration } from 'typeorm';

/**
 * The session advisory lock every process takes before running migrations. TypeORM takes none,
 * so replicas starting at once (a fresh install, a release with a new migration) would each
 * run the same `CREATE TABLE` and all but one would crash. A constant key, distinct from the
 * other advisory locks of the service (outbox, stats, retention…).
 */
export const MIGRATION_LOCK_KEY = 0x7a5c_0000;

/**
 * Runs the pending migrations of `dataSource` while holding {@link MIGRATION_LOCK_KEY} on a
 * connection of its own (not one of the pool's, which the migrations use and may close). The
 * first process applies them; the others wait, then find nothing left to do. The lock is a
 * session lock, so a process that dies while migrating releases it with its connection. `log`
 * hears about the wait and what was applied (the CLI prints its own summary instead).
 */
export async function runMigrationsLocked(
  dataSource: DataSource,
  url: string,
  log: (message: string) => void = () => undefined,
): Promise<Migration[]> {
  const lock = new Client({ connectionString: url, application_name: 'task-service migration lock' });
  await lock.connect();
  try {
    const [{ locked }] = (await lock.query('SELECT pg_try_advisory_lock($1) AS locked', [MIGRATION_LOCK_KEY])).rows;
    if (!locked) {
      log('Another process is running the migrations; waiting for it to finish');
      await lock.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    }
    const applied = await dataSource.runMigrations({ transaction: 'each' });
    if (applied.length > 0) log(`Applied ${applied.length} migration(s): ${applied.map((m) => m.name).join(', ')}`);
    return applied;
  } finally {
    // Ending the session releases the lock even if the unlock itself fails.
    await lock.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
    await lock.end().catch(() => undefined);
  }
}

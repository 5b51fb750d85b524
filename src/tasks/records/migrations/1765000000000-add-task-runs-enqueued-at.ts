import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The transactional outbox: `enqueued_at` is null while a record's job has not reached the
 * queue transport. Existing records were queued at submit, so they get a value (a constant
 * default is a catalog-only change in PostgreSQL 11+, not a table rewrite); new ones start null.
 */
export class AddTaskRunsEnqueuedAt1765000000000 implements MigrationInterface {
  name = 'AddTaskRunsEnqueuedAt1765000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE task_runs ADD COLUMN enqueued_at timestamptz DEFAULT now()`);
    await q.query(`ALTER TABLE task_runs ALTER COLUMN enqueued_at DROP DEFAULT`);
    // The enqueuer reads the outbox in submission order.
    await q.query(
      `CREATE INDEX task_runs_outbox ON task_runs (created_at, id) WHERE enqueued_at IS NULL AND state = 'PENDING'`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX task_runs_outbox`);
    await q.query(`ALTER TABLE task_runs DROP COLUMN enqueued_at`);
  }
}

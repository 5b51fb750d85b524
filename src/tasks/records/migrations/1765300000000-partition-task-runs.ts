import { MigrationInterface, QueryRunner } from 'typeorm';

const NIL = `'00000000-0000-0000-0000-000000000000'::uuid`;

/** The indexes of `task_runs`, created on the partitioned table (each partition gets its own). */
const INDEXES = [
  `task_runs_created ON task_runs (created_at DESC, id DESC)`,
  `task_runs_owner_created ON task_runs (owner, created_at DESC, id DESC)`,
  `task_runs_name_created ON task_runs (name, created_at DESC, id DESC)`,
  `task_runs_state_created ON task_runs (state, created_at DESC, id DESC)`,
  `task_runs_parent ON task_runs (parent_id, created_at DESC, id DESC) WHERE parent_id IS NOT NULL`,
  `task_runs_open ON task_runs (updated_at) WHERE state IN ('PENDING', 'STARTED', 'RETRY')`,
  `task_runs_outbox ON task_runs (created_at, id) WHERE enqueued_at IS NULL AND state = 'PENDING'`,
  `task_runs_finished ON task_runs (finished_at) WHERE finished_at IS NOT NULL`,
];

/** The domain tables whose rows are a task's result: they reference it and go with it. */
const REFERENCES = [
  ['api_calls', 'api_calls_task_id_fkey', 'task_id'],
  ['email_messages', 'email_messages_id_fkey', 'id'],
  ['email_notifications', 'email_notifications_id_fkey', 'id'],
  ['file_exports', 'file_exports_id_fkey', 'id'],
];

const TRIGGERS = [
  `task_run_rollups_inserted AFTER INSERT ON task_runs
     REFERENCING NEW TABLE AS new_runs FOR EACH STATEMENT EXECUTE FUNCTION task_run_rollups_inserted()`,
  `task_run_rollups_updated AFTER UPDATE ON task_runs
     REFERENCING OLD TABLE AS old_runs NEW TABLE AS new_runs FOR EACH STATEMENT EXECUTE FUNCTION task_run_rollups_updated()`,
];

/**
 * `task_runs` becomes a table partitioned by range of id, so that retention drops a whole day of
 * records at once instead of deleting them one by one (`TaskRunPartitions` keeps the daily
 * partitions). Task ids are UUIDv7, whose first 48 bits are the creation time, so a day's ids
 * form one range and `PRIMARY KEY (id)`, the domain tables' foreign keys and `ON CONFLICT` keep
 * working as before.
 *
 * The existing table becomes the DEFAULT partition, without copying a row: it keeps the records
 * written so far (uuid4 ids among them), and afterwards the ids callers choose (Celery's uuid4)
 * outside every day's range; retention deletes its rows one by one, as before.
 *
 * A unique index on a partitioned table must contain the partition key, so the idempotency keys
 * move to their own table, whose primary key keeps them unique across every partition.
 */
export class PartitionTaskRuns1765300000000 implements MigrationInterface {
  name = 'PartitionTaskRuns1765300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE task_runs RENAME TO task_runs_default`);
    await q.query(`ALTER TABLE task_runs_default RENAME CONSTRAINT task_runs_pkey TO task_runs_default_pkey`);
    for (const index of INDEXES.map((i) => i.split(' ')[0]))
      await q.query(`ALTER INDEX ${index} RENAME TO ${index.replace('task_runs_', 'task_runs_default_')}`);
    // A partition cannot carry triggers with transition tables: they move to the parent.
    await q.query(`DROP TRIGGER task_run_rollups_inserted ON task_runs_default`);
    await q.query(`DROP TRIGGER task_run_rollups_updated ON task_runs_default`);
    for (const [table, constraint] of REFERENCES) await q.query(`ALTER TABLE ${table} DROP CONSTRAINT ${constraint}`);

    await q.query(
      `CREATE TABLE task_runs (LIKE task_runs_default INCLUDING DEFAULTS INCLUDING CONSTRAINTS) PARTITION BY RANGE (id)`,
    );
    await q.query(`ALTER TABLE task_runs ATTACH PARTITION task_runs_default DEFAULT`);
    // The default partition's own key and indexes match, so they are attached, not built again.
    await q.query(`ALTER TABLE task_runs ADD CONSTRAINT task_runs_pkey PRIMARY KEY (id)`);
    for (const index of INDEXES) await q.query(`CREATE INDEX ${index}`);
    for (const trigger of TRIGGERS) await q.query(`CREATE TRIGGER ${trigger}`);
    for (const [table, constraint, column] of REFERENCES)
      await q.query(
        `ALTER TABLE ${table} ADD CONSTRAINT ${constraint} FOREIGN KEY (${column}) REFERENCES task_runs (id) ON DELETE CASCADE`,
      );

    await q.query(`
      CREATE TABLE task_idempotency_keys (
        -- The key's scope: the owner, or the nil UUID for tasks without one (the scheduler's).
        owner uuid NOT NULL,
        idempotency_key varchar(200) NOT NULL,
        task_id uuid NOT NULL REFERENCES task_runs (id) ON DELETE CASCADE,
        PRIMARY KEY (owner, idempotency_key)
      )`);
    await q.query(`CREATE INDEX task_idempotency_keys_task ON task_idempotency_keys (task_id)`);
    await q.query(`
      INSERT INTO task_idempotency_keys (owner, idempotency_key, task_id)
      SELECT COALESCE(owner, ${NIL}), idempotency_key, id FROM task_runs WHERE idempotency_key IS NOT NULL`);
    await q.query(`DROP INDEX task_runs_idempotency`);
  }

  async down(q: QueryRunner): Promise<void> {
    // Every day partition's rows go back into the default partition, which becomes the table.
    const partitions: { name: string }[] = await q.query(
      `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = 'task_runs'::regclass AND c.relname <> 'task_runs_default'`,
    );
    await q.query(
      `CREATE UNIQUE INDEX task_runs_default_idempotency ON task_runs_default (COALESCE(owner, ${NIL}), idempotency_key) WHERE idempotency_key IS NOT NULL`,
    );
    await q.query(`DROP TABLE task_idempotency_keys`);
    for (const [table, constraint] of REFERENCES) await q.query(`ALTER TABLE ${table} DROP CONSTRAINT ${constraint}`);
    for (const { name } of partitions) await q.query(`ALTER TABLE task_runs DETACH PARTITION ${name}`);
    await q.query(`ALTER TABLE task_runs DETACH PARTITION task_runs_default`);
    for (const { name } of partitions) {
      await q.query(`INSERT INTO task_runs_default SELECT * FROM ${name}`);
      await q.query(`DROP TABLE ${name}`);
    }
    await q.query(`DROP TABLE task_runs`);
    await q.query(`ALTER TABLE task_runs_default RENAME TO task_runs`);
    await q.query(`ALTER TABLE task_runs RENAME CONSTRAINT task_runs_default_pkey TO task_runs_pkey`);
    for (const index of [...INDEXES.map((i) => i.split(' ')[0]), 'task_runs_idempotency'])
      await q.query(`ALTER INDEX ${index.replace('task_runs_', 'task_runs_default_')} RENAME TO ${index}`);
    for (const trigger of TRIGGERS) await q.query(`CREATE TRIGGER ${trigger}`);
    for (const [table, constraint, column] of REFERENCES)
      await q.query(
        `ALTER TABLE ${table} ADD CONSTRAINT ${constraint} FOREIGN KEY (${column}) REFERENCES task_runs (id) ON DELETE CASCADE`,
      );
  }
}

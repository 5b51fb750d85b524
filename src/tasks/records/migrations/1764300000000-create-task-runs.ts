import { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateTaskRuns1764300000000 implements MigrationInterface {
  name = 'CreateTaskRuns1764300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE task_runs (
        id uuid PRIMARY KEY,
        name varchar(200) NOT NULL,
        queue varchar(100) NOT NULL,
        owner uuid,
        args jsonb NOT NULL DEFAULT '{}',
        state varchar(16) NOT NULL,
        progress jsonb,
        result jsonb,
        error jsonb,
        attempts int NOT NULL DEFAULT 0,
        max_attempts int NOT NULL,
        priority int NOT NULL DEFAULT 0,
        timeout_ms int,
        run_at timestamptz NOT NULL,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL,
        started_at timestamptz,
        finished_at timestamptz,
        runtime_ms int,
        worker_id varchar(200),
        parent_id uuid,
        idempotency_key varchar(200),
        request_id varchar(100)
      )`);
    // The list endpoint filters by owner, name and state, newest first, paging by (created_at, id);
    // an admin's unfiltered list and the daily statistics scan by creation time alone.
    await q.query(`CREATE INDEX task_runs_created ON task_runs (created_at DESC, id DESC)`);
    await q.query(`CREATE INDEX task_runs_owner_created ON task_runs (owner, created_at DESC, id DESC)`);
    await q.query(`CREATE INDEX task_runs_name_created ON task_runs (name, created_at DESC, id DESC)`);
    await q.query(`CREATE INDEX task_runs_state_created ON task_runs (state, created_at DESC, id DESC)`);
    await q.query(`CREATE INDEX task_runs_parent ON task_runs (parent_id) WHERE parent_id IS NOT NULL`);
    // The reconciler scans only unfinished records; retention scans only finished ones.
    await q.query(
      `CREATE INDEX task_runs_open ON task_runs (updated_at) WHERE state IN ('PENDING', 'STARTED', 'RETRY')`,
    );
    await q.query(`CREATE INDEX task_runs_finished ON task_runs (finished_at) WHERE finished_at IS NOT NULL`);
    await q.query(
      `CREATE UNIQUE INDEX task_runs_idempotency ON task_runs (COALESCE(owner, '00000000-0000-0000-0000-000000000000'::uuid), idempotency_key) WHERE idempotency_key IS NOT NULL`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE task_runs`);
  }
}

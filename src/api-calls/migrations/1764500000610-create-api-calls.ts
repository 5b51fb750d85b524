import { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateApiCalls1764500000610 implements MigrationInterface {
  name = 'CreateApiCalls1764500000610';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE api_calls (
        -- The record is the task's result: it expires with the task (RESULT_EXPIRES_SECONDS).
        task_id uuid PRIMARY KEY REFERENCES task_runs (id) ON DELETE CASCADE,
        owner uuid,
        kind varchar(16) NOT NULL,
        method varchar(10) NOT NULL,
        url text NOT NULL,
        final_url text,
        event varchar(100),
        request_headers jsonb NOT NULL DEFAULT '{}',
        status_code int,
        response_headers jsonb,
        response_body text,
        response_bytes int,
        response_truncated boolean NOT NULL DEFAULT false,
        duration_ms int,
        attempts int NOT NULL DEFAULT 0,
        error jsonb,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL,
        finished_at timestamptz
      )`);
    // Owners list their calls newest first; retention deletes by age.
    await q.query(`CREATE INDEX api_calls_owner_created ON api_calls (owner, created_at DESC)`);
    await q.query(`CREATE INDEX api_calls_created ON api_calls (created_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE api_calls`);
  }
}

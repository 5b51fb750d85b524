import { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateStats1764500000710 implements MigrationInterface {
  name = 'CreateStats1764500000710';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE stats_snapshots (
        task_id uuid PRIMARY KEY,
        window_start timestamptz NOT NULL,
        window_end timestamptz NOT NULL,
        task_counts jsonb NOT NULL,
        queue_depths jsonb NOT NULL,
        created_at timestamptz NOT NULL
      )`);
    await q.query(`CREATE INDEX stats_snapshots_window_end ON stats_snapshots (window_end DESC)`);
    await q.query(`
      CREATE TABLE daily_reports (
        date date PRIMARY KEY,
        timezone varchar(64) NOT NULL,
        window_start timestamptz NOT NULL,
        window_end timestamptz NOT NULL,
        totals jsonb NOT NULL,
        tasks jsonb NOT NULL,
        task_id uuid NOT NULL,
        generated_at timestamptz NOT NULL
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE daily_reports`);
    await q.query(`DROP TABLE stats_snapshots`);
  }
}

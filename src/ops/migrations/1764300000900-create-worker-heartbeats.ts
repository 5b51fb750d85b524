import { MigrationInterface, QueryRunner } from 'typeorm';

/** Live workers publish themselves here so any api replica can answer `GET /workers`. */
export class CreateWorkerHeartbeats1764300000900 implements MigrationInterface {
  name = 'CreateWorkerHeartbeats1764300000900';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE IF NOT EXISTS worker_heartbeats (
        id varchar(200) PRIMARY KEY,
        host varchar(200) NOT NULL,
        pid int NOT NULL,
        queues jsonb NOT NULL,
        active jsonb NOT NULL DEFAULT '[]',
        totals jsonb NOT NULL DEFAULT '{}',
        started_at timestamptz NOT NULL,
        last_seen timestamptz NOT NULL
      )`);
    await q.query(`CREATE INDEX IF NOT EXISTS worker_heartbeats_last_seen ON worker_heartbeats (last_seen)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS worker_heartbeats`);
  }
}

import { MigrationInterface, QueryRunner } from 'typeorm';

/** Permits of the per-host limits of `tasks.api.*` (API_CALLS_HOST_LIMITS), shared by every worker. */
export class CreateApiCallHostPermits1764500000620 implements MigrationInterface {
  name = 'CreateApiCallHostPermits1764500000620';

  async up(q: QueryRunner): Promise<void> {
    // Short-lived rows (a second, or a call's lease): unlogged, since a lost table only forgets
    // who is in flight right now, and the leases would free those slots anyway.
    await q.query(`
      CREATE UNLOGGED TABLE api_call_host_permits (
        id uuid PRIMARY KEY,
        host varchar(255) NOT NULL,
        started_at timestamptz NOT NULL,
        expires_at timestamptz NOT NULL,
        released boolean NOT NULL DEFAULT false
      )`);
    await q.query(`CREATE INDEX api_call_host_permits_host ON api_call_host_permits (host, started_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE api_call_host_permits`);
  }
}

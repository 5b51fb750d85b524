import { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateApiKeys1764300000100 implements MigrationInterface {
  name = 'CreateApiKeys1764300000100';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE api_keys (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name varchar(100) NOT NULL,
        role varchar(16) NOT NULL CHECK (role IN ('admin', 'client')),
        key_hash char(64) NOT NULL UNIQUE,
        key_prefix varchar(12) NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        revoked_at timestamptz
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE api_keys`);
  }
}

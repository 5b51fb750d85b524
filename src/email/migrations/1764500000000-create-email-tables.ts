import { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateEmailTables1764500000000 implements MigrationInterface {
  name = 'CreateEmailTables1764500000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE email_messages (
        -- The task's id: the message record expires with the task (RESULT_EXPIRES_SECONDS).
        id uuid PRIMARY KEY REFERENCES task_runs (id) ON DELETE CASCADE,
        owner uuid,
        from_address varchar(400) NOT NULL,
        to_addresses jsonb NOT NULL,
        cc_addresses jsonb NOT NULL DEFAULT '[]',
        bcc_addresses jsonb NOT NULL DEFAULT '[]',
        subject varchar(300) NOT NULL,
        template varchar(100),
        locale varchar(10),
        status varchar(16) NOT NULL CHECK (status IN ('QUEUED', 'SENDING', 'SENT', 'FAILED')),
        attempts int NOT NULL DEFAULT 0,
        message_id varchar(998),
        smtp_response text,
        accepted jsonb NOT NULL DEFAULT '[]',
        rejected jsonb NOT NULL DEFAULT '[]',
        error jsonb,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL,
        sent_at timestamptz
      )`);
    await q.query(`CREATE INDEX email_messages_owner_created ON email_messages (owner, created_at DESC)`);
    await q.query(`
      CREATE TABLE email_notifications (
        id uuid PRIMARY KEY REFERENCES task_runs (id) ON DELETE CASCADE,
        owner uuid,
        subject varchar(300) NOT NULL,
        template varchar(100) NOT NULL,
        locale varchar(10) NOT NULL,
        html text NOT NULL,
        text text NOT NULL,
        total int NOT NULL,
        batches int NOT NULL,
        dispatched int NOT NULL DEFAULT 0,
        created_at timestamptz NOT NULL
      )`);
    await q.query(`
      CREATE TABLE email_deliveries (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        notification_id uuid NOT NULL REFERENCES email_notifications (id) ON DELETE CASCADE,
        batch int NOT NULL,
        address varchar(254) NOT NULL,
        address_key varchar(254) NOT NULL,
        status varchar(16) NOT NULL CHECK (status IN ('QUEUED', 'SENDING', 'SENT', 'FAILED')),
        attempts int NOT NULL DEFAULT 0,
        next_attempt_at timestamptz NOT NULL,
        claimed_until timestamptz,
        message_id varchar(998),
        smtp_response text,
        error jsonb,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL,
        sent_at timestamptz,
        UNIQUE (notification_id, address_key)
      )`);
    await q.query(`CREATE INDEX email_deliveries_batch_status ON email_deliveries (notification_id, batch, status)`);
    await q.query(
      `CREATE INDEX email_deliveries_status ON email_deliveries (notification_id, status, next_attempt_at)`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE email_deliveries`);
    await q.query(`DROP TABLE email_notifications`);
    await q.query(`DROP TABLE email_messages`);
  }
}

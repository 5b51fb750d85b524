import { MigrationInterface, QueryRunner } from 'typeorm';

// The balance cap is MAX_BALANCE of credit-limits.ts, written out: a migration must not change after it ran.
const MAX_BALANCE = '1000000000000000';

export class CreateCredits1764400000000 implements MigrationInterface {
  name = 'CreateCredits1764400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE credit_accounts (
        id uuid PRIMARY KEY,
        owner uuid NOT NULL,
        external_user_id varchar(200),
        balance bigint NOT NULL DEFAULT 0,
        expiring_balance bigint NOT NULL DEFAULT 0,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT credit_accounts_balance_range CHECK (balance >= 0 AND balance <= ${MAX_BALANCE}),
        CONSTRAINT credit_accounts_expiring_range CHECK (expiring_balance >= 0 AND expiring_balance <= balance)
      )`);
    await q.query(`CREATE INDEX credit_accounts_owner ON credit_accounts (owner, created_at DESC)`);
    await q.query(
      `CREATE UNIQUE INDEX credit_accounts_owner_external ON credit_accounts (owner, external_user_id) WHERE external_user_id IS NOT NULL`,
    );

    // The ledger: signed amounts whose sign follows the kind, so SUM(amount) is the balance.
    await q.query(`
      CREATE TABLE credit_transactions (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        account_id uuid NOT NULL REFERENCES credit_accounts (id),
        kind varchar(16) NOT NULL,
        amount bigint NOT NULL,
        balance_after bigint NOT NULL,
        reference varchar(200),
        reason varchar(500),
        idempotency_key varchar(220) NOT NULL,
        task_id uuid,
        expires_at timestamptz,
        related_id bigint REFERENCES credit_transactions (id),
        counterparty_account_id uuid REFERENCES credit_accounts (id),
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT credit_transactions_kind CHECK (kind IN ('GRANT', 'CONSUME', 'REFUND', 'TRANSFER_IN', 'TRANSFER_OUT', 'EXPIRE')),
        CONSTRAINT credit_transactions_sign CHECK (
          (kind IN ('GRANT', 'REFUND', 'TRANSFER_IN') AND amount > 0) OR (kind IN ('CONSUME', 'TRANSFER_OUT', 'EXPIRE') AND amount < 0)),
        CONSTRAINT credit_transactions_balance_after CHECK (balance_after >= 0 AND balance_after <= ${MAX_BALANCE}),
        CONSTRAINT credit_transactions_expiry CHECK (expires_at IS NULL OR kind = 'GRANT')
      )`);
    // The exactly-once guard: one effect per (account, idempotency key).
    await q.query(
      `CREATE UNIQUE INDEX credit_transactions_idempotency ON credit_transactions (account_id, idempotency_key)`,
    );
    // A consume is refunded at most once; a grant expires at most once.
    await q.query(
      `CREATE UNIQUE INDEX credit_transactions_refund_once ON credit_transactions (related_id) WHERE kind = 'REFUND'`,
    );
    await q.query(
      `CREATE UNIQUE INDEX credit_transactions_expire_once ON credit_transactions (related_id) WHERE kind = 'EXPIRE'`,
    );
    await q.query(`CREATE INDEX credit_transactions_account ON credit_transactions (account_id, id DESC)`);
    // The ledger is append-only: the database itself refuses to change or delete a row.
    await q.query(`
      CREATE FUNCTION credit_transactions_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'credit_transactions is append-only: % is not allowed', TG_OP;
      END $$`);
    await q.query(
      `CREATE TRIGGER credit_transactions_append_only BEFORE UPDATE OR DELETE ON credit_transactions FOR EACH ROW EXECUTE FUNCTION credit_transactions_append_only()`,
    );

    // What is left of each grant that expires: debits draw the earliest-expiring lot first.
    await q.query(`
      CREATE TABLE credit_grant_lots (
        grant_id bigint PRIMARY KEY REFERENCES credit_transactions (id),
        account_id uuid NOT NULL REFERENCES credit_accounts (id),
        expires_at timestamptz NOT NULL,
        amount bigint NOT NULL CHECK (amount > 0),
        remaining bigint NOT NULL,
        CONSTRAINT credit_grant_lots_remaining CHECK (remaining >= 0 AND remaining <= amount)
      )`);
    await q.query(
      `CREATE INDEX credit_grant_lots_open ON credit_grant_lots (account_id, expires_at, grant_id) WHERE remaining > 0`,
    );
    await q.query(`CREATE INDEX credit_grant_lots_due ON credit_grant_lots (expires_at) WHERE remaining > 0`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE credit_grant_lots`);
    await q.query(`DROP TABLE credit_transactions`);
    await q.query(`DROP FUNCTION credit_transactions_append_only()`);
    await q.query(`DROP TABLE credit_accounts`);
  }
}

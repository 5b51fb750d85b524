import { Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { LedgerRow } from './credit-ledger.service';

/** One consume waiting for the next batch. */
export interface ConsumeRequest {
  accountId: string;
  key: string;
  amount: number;
  /** The owner whose accounts the task may use; null = any. */
  scope: string | null;
  taskId: string;
  reference: string | null;
  reason: string | null;
}

interface Pending extends ConsumeRequest {
  resolve(row: LedgerRow | null): void;
}

const MAX_BATCH = 500;
// Two statements in flight: one executes while the other waits for its commit to reach disk.
const MAX_IN_FLIGHT = 2;

/**
 * The common case of many consumes in one statement — group commit, as the task record writer
 * does for records. The statement locks the batch's accounts in id order (the order every other
 * ledger transaction uses, so no deadlock), keeps only the consumes whose account exists, belongs
 * to the task's scope, has no expiring lots and has not seen the key, and applies them in
 * arrival order as long as the running balance stays ≥ 0: one conditional UPDATE per account
 * and one ledger row per consume, committed together before any task is told it succeeded.
 * Every consume it does not apply resolves to null and takes the locked path, which decides
 * and explains (insufficient balance, unknown account, repeat of a key …).
 */
const BATCH_CONSUME_SQL = `
  WITH req AS (
    SELECT * FROM jsonb_to_recordset($1::jsonb)
      AS r(i int, account_id uuid, key varchar, amount bigint, scope uuid, task_id uuid, reference varchar, reason varchar)
  ), locked AS (
    SELECT a.id, a.owner, a.balance FROM credit_accounts a
    WHERE a.id IN (SELECT account_id FROM req) AND a.expiring_balance = 0
    ORDER BY a.id FOR UPDATE
  ), eligible AS (
    SELECT r.*, l.balance - SUM(r.amount) OVER (PARTITION BY r.account_id ORDER BY r.i) AS after
    FROM req r JOIN locked l ON l.id = r.account_id
    WHERE (r.scope IS NULL OR l.owner = r.scope)
      AND NOT EXISTS (SELECT 1 FROM credit_transactions t WHERE t.account_id = r.account_id AND t.idempotency_key = r.key)
  ), accepted AS (
    SELECT * FROM eligible WHERE after >= 0
  ), debit AS (
    UPDATE credit_accounts a SET balance = a.balance - s.total, updated_at = now()
    FROM (SELECT account_id, SUM(amount) AS total FROM accepted GROUP BY account_id) s
    WHERE a.id = s.account_id
    RETURNING a.id
  )
  INSERT INTO credit_transactions (account_id, kind, amount, balance_after, idempotency_key, task_id, reference, reason)
  SELECT account_id, 'CONSUME', -amount, after, key, task_id, reference, reason FROM accepted ORDER BY i
  RETURNING id, account_id, kind, amount, balance_after, expires_at, related_id, counterparty_account_id, created_at, idempotency_key`;

@Injectable()
export class CreditConsumeBatcher {
  private readonly logger = new Logger(CreditConsumeBatcher.name);
  private queue: Pending[] = [];
  private inFlight = 0;
  private scheduled = false;

  constructor(private readonly dataSource: DataSource) {}

  /** Resolves with the ledger row if the batch applied the consume, else null (never rejects). */
  consume(request: ConsumeRequest): Promise<LedgerRow | null> {
    return new Promise((resolve) => {
      this.queue.push({ ...request, resolve });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight >= MAX_IN_FLIGHT) return;
    this.scheduled = true;
    // setImmediate lets every consume started in this turn of the event loop join the batch.
    setImmediate(() => {
      this.scheduled = false;
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    if (this.inFlight >= MAX_IN_FLIGHT || this.queue.length === 0) return;
    this.inFlight += 1;
    const batch: Pending[] = [];
    const rest: Pending[] = [];
    const seen = new Set<string>();
    for (const p of this.queue) {
      const id = `${p.accountId}\n${p.key}`;
      // A key twice in one batch would fail the whole statement: the twin takes the locked path.
      if (batch.length >= MAX_BATCH) rest.push(p);
      else if (seen.has(id)) p.resolve(null);
      else {
        seen.add(id);
        batch.push(p);
      }
    }
    this.queue = rest;
    try {
      const docs = batch.map((p, i) => ({
        i,
        account_id: p.accountId,
        key: p.key,
        amount: p.amount,
        scope: p.scope,
        task_id: p.taskId,
        reference: p.reference,
        reason: p.reason,
      }));
      const rows: (LedgerRow & { idempotency_key: string })[] = await this.dataSource.query(BATCH_CONSUME_SQL, [
        JSON.stringify(docs),
      ]);
      const applied = new Map(rows.map((r) => [`${r.account_id}\n${r.idempotency_key}`, r]));
      for (const p of batch) p.resolve(applied.get(`${p.accountId}\n${p.key}`) ?? null);
    } catch (error) {
      // E.g. a twin with the same key committed meanwhile (unique violation): each consume retries alone.
      this.logger.warn(`A batch of ${batch.length} consumes fell back to one transaction each: ${error.message}`);
      for (const p of batch) p.resolve(null);
    } finally {
      this.inFlight -= 1;
      if (this.queue.length > 0) this.schedule();
    }
  }
}

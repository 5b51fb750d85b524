import { Injectable } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { DataSource, EntityManager } from 'typeorm';
import {
  balanceLimit,
  idempotencyConflict,
  insufficientBalance,
  isRetryableConflict,
  unknownAccount,
} from './credit-errors';
import { MAX_BALANCE, toPoints } from './credit-limits';
import { systemKey } from './credit-keys';
import { CreditKind } from './entities/credit-transaction.entity';

/** An account row locked (FOR UPDATE) by the current transaction; kept in step as it changes. */
export interface LockedAccount {
  id: string;
  owner: string;
  balance: number;
  expiringBalance: number;
}

/** A ledger row as the SQL below returns it. */
export interface LedgerRow {
  id: string;
  account_id: string;
  kind: CreditKind;
  amount: string;
  balance_after: string;
  expires_at: Date | null;
  related_id: string | null;
  counterparty_account_id: string | null;
  created_at: Date;
}

export interface NewLedgerRow {
  accountId: string;
  kind: CreditKind;
  /** Signed: positive adds points, negative takes them. */
  amount: number;
  balanceAfter: number;
  idempotencyKey: string;
  taskId: string | null;
  reference?: string | null;
  reason?: string | null;
  expiresAt?: Date | null;
  relatedId?: string | null;
  counterpartyAccountId?: string | null;
}

const LEDGER_COLUMNS =
  'id, account_id, kind, amount, balance_after, expires_at, related_id, counterparty_account_id, created_at';
const MAX_CONFLICT_RETRIES = 4;

/**
 * The ledger's building blocks, each used inside one transaction that has locked the accounts
 * it touches. Every write to an account's balance and every ledger row for it happen under that
 * account's row lock, so "check, then write" steps here cannot race.
 */
@Injectable()
export class CreditLedger {
  constructor(private readonly dataSource: DataSource) {}

  /** Runs `work` in one transaction; a deadlock or serialization failure re-runs it (a few times). */
  async transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.dataSource.transaction('READ COMMITTED', work);
      } catch (error) {
        if (!isRetryableConflict(error) || attempt >= MAX_CONFLICT_RETRIES) throw error;
        await sleep(Math.random() * 20 * 2 ** attempt);
      }
    }
  }

  /**
   * Locks the accounts in id order (so two transfers in opposite directions never deadlock).
   * An account that does not exist, or that `scope` (an owner; null = any) does not own, is
   * "unknown": a client cannot tell another client's account from a missing one.
   */
  async lock(manager: EntityManager, ids: string[], scope: string | null): Promise<Map<string, LockedAccount>> {
    const sorted = [...new Set(ids)].sort();
    const rows: { id: string; owner: string; balance: string; expiring_balance: string }[] = await manager.query(
      `SELECT id, owner, balance, expiring_balance FROM credit_accounts WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE`,
      [sorted],
    );
    const locked = new Map(
      rows.map((r) => [
        r.id,
        { id: r.id, owner: r.owner, balance: toPoints(r.balance), expiringBalance: toPoints(r.expiring_balance) },
      ]),
    );
    for (const id of ids) {
      const account = locked.get(id);
      if (!account || (scope !== null && account.owner !== scope)) throw unknownAccount(id);
    }
    return locked;
  }

  async findByKey(manager: EntityManager, accountId: string, key: string): Promise<LedgerRow | undefined> {
    const rows = await manager.query(
      `SELECT ${LEDGER_COLUMNS} FROM credit_transactions WHERE account_id = $1 AND idempotency_key = $2`,
      [accountId, key],
    );
    return rows[0];
  }

  /** The row an idempotency key already produced, checked to be the same operation. */
  async replayable(
    manager: EntityManager,
    accountId: string,
    key: string,
    kind: CreditKind,
    amount?: number,
  ): Promise<LedgerRow | undefined> {
    const existing = await this.findByKey(manager, accountId, key);
    if (!existing) return undefined;
    const existingAmount = Math.abs(toPoints(existing.amount));
    if (existing.kind !== kind || (amount !== undefined && existingAmount !== amount))
      throw idempotencyConflict(key, existing.kind, existingAmount);
    return existing;
  }

  async findById(manager: EntityManager, id: string): Promise<LedgerRow | undefined> {
    const rows = await manager.query(`SELECT ${LEDGER_COLUMNS} FROM credit_transactions WHERE id = $1`, [id]);
    return rows[0];
  }

  async append(manager: EntityManager, row: NewLedgerRow): Promise<LedgerRow> {
    const rows = await manager.query(
      `INSERT INTO credit_transactions (account_id, kind, amount, balance_after, idempotency_key, task_id, reference, reason, expires_at, related_id, counterparty_account_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING ${LEDGER_COLUMNS}`,
      [
        row.accountId,
        row.kind,
        row.amount,
        row.balanceAfter,
        row.idempotencyKey,
        row.taskId,
        row.reference ?? null,
        row.reason ?? null,
        row.expiresAt ?? null,
        row.relatedId ?? null,
        row.counterpartyAccountId ?? null,
      ],
    );
    return rows[0];
  }

  /** Takes `amount` points; the earliest-expiring grants are spent first. */
  async debit(manager: EntityManager, account: LockedAccount, amount: number): Promise<void> {
    if (account.balance < amount) throw insufficientBalance(account.id, account.balance, amount);
    const fromLots = Math.min(amount, account.expiringBalance);
    await manager.query(
      `UPDATE credit_accounts SET balance = balance - $2, expiring_balance = expiring_balance - $3, updated_at = now() WHERE id = $1`,
      [account.id, amount, fromLots],
    );
    if (fromLots > 0) await this.drawLots(manager, account.id, fromLots);
    account.balance -= amount;
    account.expiringBalance -= fromLots;
  }

  /** Adds `amount` points; with `expiresAt` they form a lot that expires then. */
  async credit(manager: EntityManager, account: LockedAccount, amount: number, expiring: boolean): Promise<void> {
    if (account.balance + amount > MAX_BALANCE) throw balanceLimit(account.id);
    await manager.query(
      `UPDATE credit_accounts SET balance = balance + $2, expiring_balance = expiring_balance + $3, updated_at = now() WHERE id = $1`,
      [account.id, amount, expiring ? amount : 0],
    );
    account.balance += amount;
    if (expiring) account.expiringBalance += amount;
  }

  async addLot(manager: EntityManager, grant: LedgerRow, expiresAt: Date): Promise<void> {
    const amount = toPoints(grant.amount);
    await manager.query(
      `INSERT INTO credit_grant_lots (grant_id, account_id, expires_at, amount, remaining) VALUES ($1, $2, $3, $4, $4)`,
      [grant.id, grant.account_id, expiresAt, amount],
    );
  }

  /**
   * Expires what is left of the account's grants due at `asOf`: one EXPIRE row per grant
   * (keyed `sys:expire:<grant id>`, and a unique index allows one per grant).
   */
  async expireDue(
    manager: EntityManager,
    account: LockedAccount,
    asOf: Date,
    taskId: string | null,
  ): Promise<LedgerRow[]> {
    if (account.expiringBalance === 0) return [];
    const lots: { grant_id: string; remaining: string }[] = await manager.query(
      `SELECT grant_id, remaining FROM credit_grant_lots WHERE account_id = $1 AND remaining > 0 AND expires_at <= $2 ORDER BY expires_at, grant_id FOR UPDATE`,
      [account.id, asOf],
    );
    const expired: LedgerRow[] = [];
    for (const lot of lots) {
      const remaining = toPoints(lot.remaining);
      await manager.query(`UPDATE credit_grant_lots SET remaining = 0 WHERE grant_id = $1`, [lot.grant_id]);
      await manager.query(
        `UPDATE credit_accounts SET balance = balance - $2, expiring_balance = expiring_balance - $2, updated_at = now() WHERE id = $1`,
        [account.id, remaining],
      );
      account.balance -= remaining;
      account.expiringBalance -= remaining;
      expired.push(
        await this.append(manager, {
          accountId: account.id,
          kind: 'EXPIRE',
          amount: -remaining,
          balanceAfter: account.balance,
          idempotencyKey: systemKey(`expire:${lot.grant_id}`),
          taskId,
          reason: `Grant ${lot.grant_id} expired`,
          relatedId: lot.grant_id,
        }),
      );
    }
    return expired;
  }

  /** Spends `amount` from the open lots, earliest expiry first, in one statement. */
  private async drawLots(manager: EntityManager, accountId: string, amount: number): Promise<void> {
    await manager.query(
      `UPDATE credit_grant_lots l SET remaining = l.remaining - d.take
       FROM (SELECT grant_id, LEAST(remaining, GREATEST(0, $2 - (SUM(remaining) OVER (ORDER BY expires_at, grant_id) - remaining))) AS take
             FROM credit_grant_lots WHERE account_id = $1 AND remaining > 0) d
       WHERE l.grant_id = d.grant_id AND d.take > 0`,
      [accountId, amount],
    );
  }
}

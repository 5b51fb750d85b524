import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { AppConfig } from '../config/app-config';
import { TaskContext } from '../tasks/task-definition';
import { CreditAccess } from './credit-access.service';
import { endOfLocalDay } from '../common/calendar-date';
import { CreditConsumeBatcher } from './credit-consume.batcher';
import { CreditRuleError, refundRejected } from './credit-errors';
import { CreditLedger, LedgerRow, LockedAccount } from './credit-ledger.service';
import { toPoints } from './credit-limits';
import { ledgerKey } from './credit-keys';
import { CreditResult, toCreditResult } from './credit-results';
import { ConsumeArgs, GrantArgs, RefundArgs } from './credits.tasks';

export interface GrantInput {
  amount: number;
  expiresAt: Date | null;
  idempotencyKey: string;
  taskId: string | null;
  reference?: string | null;
  reason?: string | null;
}

/** Grants, consumes and refunds: each committed in a transaction, each applied once per idempotency key. */
@Injectable()
export class CreditsService {
  constructor(
    private readonly batcher: CreditConsumeBatcher,
    private readonly ledger: CreditLedger,
    private readonly access: CreditAccess,
    private readonly config: AppConfig,
  ) {}

  async grant(args: GrantArgs, ctx: TaskContext): Promise<CreditResult> {
    const scope = await this.access.scopeOfTask(ctx.owner);
    const expiresAt = this.expiryOf(args);
    const key = ledgerKey(args.idempotencyKey, ctx.taskId);
    return this.ledger.transaction(async (m) => {
      const account = (await this.ledger.lock(m, [args.accountId], scope)).get(args.accountId)!;
      const existing = await this.ledger.replayable(m, account.id, key, 'GRANT', args.amount);
      if (existing) return toCreditResult(existing, true);
      const row = await this.grantLocked(m, account, {
        amount: args.amount,
        expiresAt,
        idempotencyKey: key,
        taskId: ctx.taskId,
        reference: args.reference,
        reason: args.reason,
      });
      return toCreditResult(row, false);
    });
  }

  /** Writes a grant into an account the caller's transaction has locked. */
  async grantLocked(m: EntityManager, account: LockedAccount, input: GrantInput): Promise<LedgerRow> {
    await this.ledger.credit(m, account, input.amount, input.expiresAt !== null);
    const row = await this.ledger.append(m, {
      accountId: account.id,
      kind: 'GRANT',
      amount: input.amount,
      balanceAfter: account.balance,
      idempotencyKey: input.idempotencyKey,
      taskId: input.taskId,
      reference: input.reference,
      reason: input.reason,
      expiresAt: input.expiresAt,
    });
    if (input.expiresAt) await this.ledger.addLot(m, row, input.expiresAt);
    return row;
  }

  async consume(args: ConsumeArgs, ctx: TaskContext): Promise<CreditResult> {
    const scope = await this.access.scopeOfTask(ctx.owner);
    const key = ledgerKey(args.idempotencyKey, ctx.taskId);
    // The common case goes in a batch with the consumes running alongside (one statement, one commit).
    const applied = await this.batcher.consume({
      accountId: args.accountId,
      key,
      amount: args.amount,
      scope,
      taskId: ctx.taskId,
      reference: args.reference ?? null,
      reason: args.reason ?? null,
    });
    if (applied) return toCreditResult(applied, false);
    // Anything else — a repeat, a short balance, expiring lots, an unknown account — is decided under the row lock.
    return this.ledger.transaction(async (m) => {
      const account = (await this.ledger.lock(m, [args.accountId], scope)).get(args.accountId)!;
      const existing = await this.ledger.replayable(m, account.id, key, 'CONSUME', args.amount);
      if (existing) return toCreditResult(existing, true);
      // Grants past their date stop counting now, not only when the daily expiry runs.
      await this.ledger.expireDue(m, account, new Date(), ctx.taskId);
      await this.ledger.debit(m, account, args.amount);
      const row = await this.ledger.append(m, {
        accountId: account.id,
        kind: 'CONSUME',
        amount: -args.amount,
        balanceAfter: account.balance,
        idempotencyKey: key,
        taskId: ctx.taskId,
        reference: args.reference,
        reason: args.reason,
      });
      return toCreditResult(row, false);
    });
  }

  async refund(args: RefundArgs, ctx: TaskContext): Promise<CreditResult> {
    const scope = await this.access.scopeOfTask(ctx.owner);
    const key = ledgerKey(args.idempotencyKey, ctx.taskId);
    return this.ledger.transaction(async (m) => {
      const account = (await this.ledger.lock(m, [args.accountId], scope)).get(args.accountId)!;
      const existing = await this.ledger.replayable(m, account.id, key, 'REFUND', args.amount);
      if (existing) {
        if (existing.related_id !== args.transactionId)
          throw refundRejected(`Idempotency key ${key} was already used to refund transaction ${existing.related_id}`);
        return toCreditResult(existing, true);
      }
      const consumed = await this.ledger.findById(m, args.transactionId);
      if (!consumed || consumed.account_id !== account.id || consumed.kind !== 'CONSUME') {
        throw refundRejected(`Transaction ${args.transactionId} is not a consume of account ${account.id}`);
      }
      const consumedAmount = Math.abs(toPoints(consumed.amount));
      const amount = args.amount ?? consumedAmount;
      if (amount > consumedAmount)
        throw refundRejected(
          `A refund of ${amount} points exceeds the ${consumedAmount} points consumed by transaction ${consumed.id}`,
        );
      const [earlier] = await m.query(`SELECT id FROM credit_transactions WHERE related_id = $1 AND kind = 'REFUND'`, [
        consumed.id,
      ]);
      if (earlier) throw refundRejected(`Transaction ${consumed.id} was already refunded (transaction ${earlier.id})`);
      // Refunded points come back without an expiry date.
      await this.ledger.credit(m, account, amount, false);
      const row = await this.ledger.append(m, {
        accountId: account.id,
        kind: 'REFUND',
        amount,
        balanceAfter: account.balance,
        idempotencyKey: key,
        taskId: ctx.taskId,
        reference: args.reference,
        reason: args.reason,
        relatedId: consumed.id,
      });
      return toCreditResult(row, false);
    });
  }

  /** A grant's expiry instant: `expiresAt` as given, or the end of `expiresOn` in `TZ`. */
  expiryOf(args: Pick<GrantArgs, 'expiresAt' | 'expiresOn'>): Date | null {
    if (args.expiresAt && args.expiresOn)
      throw new CreditRuleError('InvalidGrant', 'Give expiresAt or expiresOn, not both');
    if (args.expiresAt) return new Date(args.expiresAt);
    if (args.expiresOn) return endOfLocalDay(args.expiresOn, this.config.env.TZ);
    return null;
  }
}

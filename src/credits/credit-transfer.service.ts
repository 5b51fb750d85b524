import { Injectable } from '@nestjs/common';
import { TaskContext } from '../tasks/task-definition';
import { CreditAccess } from './credit-access.service';
import { CreditRuleError, idempotencyConflict } from './credit-errors';
import { CreditLedger, LedgerRow } from './credit-ledger.service';
import { toPoints } from './credit-limits';
import { ledgerKey } from './credit-keys';
import { TransferArgs } from './credits.tasks';

export interface TransferResult {
  /** The TRANSFER_OUT row on the source account. */
  transactionId: string;
  /** The TRANSFER_IN row on the destination account. */
  incomingTransactionId: string;
  fromAccountId: string;
  toAccountId: string;
  amount: number;
  fromBalance: number;
  toBalance: number;
  duplicate: boolean;
}

/**
 * Moves points between two accounts in one transaction: both rows locked in id order (so
 * opposite transfers cannot deadlock; if PostgreSQL still reports one, the transaction re-runs),
 * a TRANSFER_OUT row on the source and a TRANSFER_IN row on the destination, both keyed by the
 * same idempotency key.
 */
@Injectable()
export class CreditTransferService {
  constructor(
    private readonly ledger: CreditLedger,
    private readonly access: CreditAccess,
  ) {}

  async transfer(args: TransferArgs, ctx: TaskContext): Promise<TransferResult> {
    if (args.fromAccountId === args.toAccountId)
      throw new CreditRuleError('InvalidTransfer', 'fromAccountId and toAccountId must be different accounts');
    const scope = await this.access.scopeOfTask(ctx.owner);
    const key = ledgerKey(args.idempotencyKey, ctx.taskId);
    return this.ledger.transaction(async (m) => {
      const accounts = await this.ledger.lock(m, [args.fromAccountId, args.toAccountId], scope);
      const from = accounts.get(args.fromAccountId)!;
      const to = accounts.get(args.toAccountId)!;
      const out = await this.ledger.replayable(m, from.id, key, 'TRANSFER_OUT', args.amount);
      if (out) {
        const incoming = await this.ledger.findByKey(m, to.id, key);
        if (out.counterparty_account_id !== to.id || !incoming)
          throw idempotencyConflict(key, out.kind, toPoints(out.amount));
        return toTransferResult(out, incoming, true);
      }
      await this.ledger.expireDue(m, from, new Date(), ctx.taskId);
      await this.ledger.debit(m, from, args.amount);
      // Transferred points arrive without an expiry date.
      await this.ledger.credit(m, to, args.amount, false);
      const common = { idempotencyKey: key, taskId: ctx.taskId, reference: args.reference, reason: args.reason };
      const outRow = await this.ledger.append(m, {
        ...common,
        accountId: from.id,
        kind: 'TRANSFER_OUT',
        amount: -args.amount,
        balanceAfter: from.balance,
        counterpartyAccountId: to.id,
      });
      const inRow = await this.ledger.append(m, {
        ...common,
        accountId: to.id,
        kind: 'TRANSFER_IN',
        amount: args.amount,
        balanceAfter: to.balance,
        counterpartyAccountId: from.id,
        relatedId: outRow.id,
      });
      return toTransferResult(outRow, inRow, false);
    });
  }
}

function toTransferResult(out: LedgerRow, incoming: LedgerRow, duplicate: boolean): TransferResult {
  return {
    transactionId: String(out.id),
    incomingTransactionId: String(incoming.id),
    fromAccountId: out.account_id,
    toAccountId: incoming.account_id,
    amount: Math.abs(toPoints(out.amount)),
    fromBalance: toPoints(out.balance_after),
    toBalance: toPoints(incoming.balance_after),
    duplicate,
  };
}

import { toPoints } from './credit-limits';
import type { LedgerRow } from './credit-ledger.service';
import { CreditKind } from './entities/credit-transaction.entity';

/** A task's result: the ledger row it wrote (or, for a repeat, the row it wrote the first time). */
export interface CreditResult {
  transactionId: string;
  accountId: string;
  kind: CreditKind;
  /** Always positive; `kind` tells the direction. */
  amount: number;
  /** The balance right after this operation. */
  balance: number;
  expiresAt?: string | null;
  /** True when the idempotency key had already been applied: nothing was charged again. */
  duplicate: boolean;
}

export function toCreditResult(row: LedgerRow, duplicate: boolean): CreditResult {
  return {
    transactionId: String(row.id),
    accountId: row.account_id,
    kind: row.kind,
    amount: Math.abs(toPoints(row.amount)),
    balance: toPoints(row.balance_after),
    ...(row.kind === 'GRANT' ? { expiresAt: row.expires_at ? new Date(row.expires_at).toISOString() : null } : {}),
    duplicate,
  };
}

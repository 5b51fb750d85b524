import { UnrecoverableError } from 'bullmq';
import { MAX_BALANCE } from './credit-limits';

/**
 * A business rule refused the operation: the task ends FAILURE at once (an UnrecoverableError
 * is never retried) and `error.type` names the rule for callers.
 */
export class CreditRuleError extends UnrecoverableError {
  constructor(type: string, message: string) {
    super(message);
    this.name = type;
  }
}

export const unknownAccount = (id: string) => new CreditRuleError('UnknownAccount', `Unknown account ${id}`);

export const insufficientBalance = (id: string, balance: number, requested: number) =>
  new CreditRuleError(
    'InsufficientCredits',
    `Insufficient balance: account ${id} holds ${balance} points, ${requested} requested`,
  );

export const balanceLimit = (id: string) =>
  new CreditRuleError('BalanceLimit', `Account ${id} would exceed the maximum balance of ${MAX_BALANCE} points`);

export const idempotencyConflict = (key: string, kind: string, amount: number) =>
  new CreditRuleError(
    'IdempotencyConflict',
    `Idempotency key ${key} was already used on this account for a different operation (${kind} of ${Math.abs(amount)} points)`,
  );

export const refundRejected = (message: string) => new CreditRuleError('RefundRejected', message);

export const forbidden = (message: string) => new CreditRuleError('Forbidden', message);

/** PostgreSQL errors a retry can fix: deadlock, serialization failure, lock timeout. */
export function isRetryableConflict(error: unknown): boolean {
  const code =
    (error as { code?: string; driverError?: { code?: string } })?.code ??
    (error as { driverError?: { code?: string } })?.driverError?.code;
  return code === '40P01' || code === '40001' || code === '55P03';
}

/** The unique violation of one named index (`credit_transactions_idempotency` …). */
export function isUniqueViolation(error: unknown, constraint: string): boolean {
  const e = error as { code?: string; constraint?: string; driverError?: { code?: string; constraint?: string } };
  const code = e?.code ?? e?.driverError?.code;
  const name = e?.constraint ?? e?.driverError?.constraint;
  return code === '23505' && name === constraint;
}

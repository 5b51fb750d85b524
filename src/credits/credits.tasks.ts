import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  IsDateString,
  IsInt,
  IsOptional,
  IsString,
  IsUUID,
  Length,
  Matches,
  Max,
  Min,
  Validate,
  ValidatorConstraint,
  ValidatorConstraintInterface,
} from 'class-validator';
import { defineTask } from '../tasks/task-definition';
import { isCalendarDate } from '../common/calendar-date';
import { MAX_AMOUNT, MAX_KEY_LENGTH, MAX_REASON_LENGTH, MAX_REFERENCE_LENGTH } from './credit-limits';
import { QueueName } from '../tasks/queue-names';

const AMOUNT_RULE = `a positive integer of at most ${MAX_AMOUNT.toLocaleString('en-US')} points`;
const amountMessage = (field: string) => `${field} must be ${AMOUNT_RULE}`;

/** A points amount: a JSON number that is an integer in 1..MAX_AMOUNT (no strings, no fractions). */
function Amount(field = 'amount'): PropertyDecorator {
  return (target, key) => {
    IsInt({ message: amountMessage(field) })(target, key);
    Min(1, { message: amountMessage(field) })(target, key);
    Max(MAX_AMOUNT, { message: amountMessage(field) })(target, key);
  };
}

@ValidatorConstraint({ name: 'isCalendarDate' })
class CalendarDateRule implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    return typeof value === 'string' && isCalendarDate(value);
  }
  defaultMessage(): string {
    return 'expiresOn must be a calendar date written YYYY-MM-DD';
  }
}

/** Fields every ledger operation may carry. */
export class CreditOperationArgs {
  @ApiPropertyOptional({
    description: "The caller's key: the operation takes effect once per account and key (default: the task id)",
    maxLength: MAX_KEY_LENGTH,
  })
  @IsOptional()
  @IsString()
  @Length(1, MAX_KEY_LENGTH)
  @Matches(/^(?!sys:)/, { message: 'idempotencyKey must not start with "sys:" (reserved for the service\'s own keys)' })
  idempotencyKey?: string;

  @ApiPropertyOptional({
    description: "The caller's reference (order id, request id …)",
    maxLength: MAX_REFERENCE_LENGTH,
  })
  @IsOptional()
  @IsString()
  @Length(1, MAX_REFERENCE_LENGTH)
  reference?: string;

  @ApiPropertyOptional({ maxLength: MAX_REASON_LENGTH })
  @IsOptional()
  @IsString()
  @Length(1, MAX_REASON_LENGTH)
  reason?: string;
}

export class GrantArgs extends CreditOperationArgs {
  @ApiProperty()
  @IsUUID('all', { message: 'accountId must be a UUID' })
  accountId: string;

  @ApiProperty({ minimum: 1, maximum: MAX_AMOUNT })
  @Amount()
  amount: number;

  @ApiPropertyOptional({ description: 'When what is left of the grant expires (ISO 8601 instant)' })
  @IsOptional()
  @IsDateString({ strict: true }, { message: 'expiresAt must be an ISO 8601 date-time' })
  expiresAt?: string;

  @ApiPropertyOptional({ description: 'Expires at the end of this day (YYYY-MM-DD) in the service time zone (TZ)' })
  @IsOptional()
  @Validate(CalendarDateRule)
  expiresOn?: string;
}

export class ConsumeArgs extends CreditOperationArgs {
  @ApiProperty()
  @IsUUID('all', { message: 'accountId must be a UUID' })
  accountId: string;

  @ApiProperty({ minimum: 1, maximum: MAX_AMOUNT })
  @Amount()
  amount: number;
}

export class RefundArgs extends CreditOperationArgs {
  @ApiProperty()
  @IsUUID('all', { message: 'accountId must be a UUID' })
  accountId: string;

  @ApiProperty({ description: "The id of the CONSUME ledger row to refund (the consume task's result.transactionId)" })
  @IsString({ message: 'transactionId must be a ledger transaction id (digits)' })
  @Matches(/^[1-9]\d{0,17}$/, { message: 'transactionId must be a ledger transaction id (digits)' })
  transactionId: string;

  @ApiPropertyOptional({
    description: 'At most the consumed amount; default: all of it',
    minimum: 1,
    maximum: MAX_AMOUNT,
  })
  @IsOptional()
  @Amount()
  amount?: number;
}

export class TransferArgs extends CreditOperationArgs {
  @ApiProperty()
  @IsUUID('all', { message: 'fromAccountId must be a UUID' })
  fromAccountId: string;

  @ApiProperty()
  @IsUUID('all', { message: 'toAccountId must be a UUID' })
  toAccountId: string;

  @ApiProperty({ minimum: 1, maximum: MAX_AMOUNT })
  @Amount()
  amount: number;
}

export class ExpireArgs {
  @ApiPropertyOptional({ description: 'Expire grants whose expiry is at or before this instant (default: now)' })
  @IsOptional()
  @IsDateString({ strict: true }, { message: 'asOf must be an ISO 8601 date-time' })
  asOf?: string;

  @ApiPropertyOptional({ description: 'Only this account (default: every account)' })
  @IsOptional()
  @IsUUID('all', { message: 'accountId must be a UUID' })
  accountId?: string;
}

// Ledger operations are short and idempotent: transient database errors retry quickly. They are
// not abortable: a cancel or timeout never abandons a transaction that may still commit.
const LEDGER_RETRY = { attempts: 5, backoffMs: 200 };

/** Adds points to an account, optionally expiring at a date. */
export const GrantTask = defineTask({
  name: 'tasks.credits.grant',
  celery:
    'grant(account_id, amount, expires_at=None, expires_on=None, idempotency_key=None, reference=None, reason=None)',
  queue: QueueName.CREDITS,
  description: 'Grants points to an account',
  payload: GrantArgs,
  retry: LEDGER_RETRY,
  timeoutMs: 30_000,
  abortable: false,
});

/** Spends points; fails (no retry) when the balance is short. */
export const ConsumeTask = defineTask({
  name: 'tasks.credits.consume',
  celery: 'consume(account_id, amount, idempotency_key=None, reference=None, reason=None)',
  queue: QueueName.CREDITS,
  description: 'Consumes points from an account; fails when the balance is insufficient',
  payload: ConsumeArgs,
  retry: LEDGER_RETRY,
  timeoutMs: 30_000,
  abortable: false,
});

/** Gives back (part of) an earlier consume, once. */
export const RefundTask = defineTask({
  name: 'tasks.credits.refund',
  celery: 'refund(account_id, transaction_id, amount=None, idempotency_key=None, reference=None, reason=None)',
  queue: QueueName.CREDITS,
  description: 'Refunds an earlier consume, at most its amount, once',
  payload: RefundArgs,
  retry: LEDGER_RETRY,
  timeoutMs: 30_000,
  abortable: false,
});

/** Moves points between two accounts of one owner atomically. */
export const TransferTask = defineTask({
  name: 'tasks.credits.transfer',
  celery: 'transfer(from_account_id, to_account_id, amount, idempotency_key=None, reference=None, reason=None)',
  queue: QueueName.CREDITS,
  description: 'Transfers points between two accounts atomically',
  payload: TransferArgs,
  retry: LEDGER_RETRY,
  timeoutMs: 30_000,
  abortable: false,
});

/** Expires what is left of grants past their date (daily in TZ). */
export const ExpireTask = defineTask({
  name: 'tasks.credits.expire',
  celery: 'expire(as_of=None, account_id=None)',
  queue: QueueName.CREDITS,
  description: 'Expires what is left of grants past their expiry date',
  payload: ExpireArgs,
  retry: { attempts: 3, backoffMs: 5000 },
  timeoutMs: 30 * 60_000,
  abortable: false,
});

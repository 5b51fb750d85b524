import { Column, Entity, PrimaryColumn } from 'typeorm';
import { pointsTransformer } from './credit-account.entity';

export const CREDIT_KINDS = ['GRANT', 'CONSUME', 'REFUND', 'TRANSFER_IN', 'TRANSFER_OUT', 'EXPIRE'] as const;
export type CreditKind = (typeof CREDIT_KINDS)[number];

/** Kinds that add points; the others take them away. */
export const CREDITING_KINDS: readonly CreditKind[] = ['GRANT', 'REFUND', 'TRANSFER_IN'];

/**
 * One row of the append-only ledger (no UPDATE or DELETE ever touches it). `amount` is signed —
 * positive for GRANT, REFUND and TRANSFER_IN, negative for CONSUME, TRANSFER_OUT and EXPIRE — so
 * an account's balance is exactly `SUM(amount)` of its rows, and `balanceAfter` is the running total.
 */
@Entity('credit_transactions')
export class CreditTransaction {
  /** The ledger sequence number (bigint identity), exposed as a string. */
  @PrimaryColumn('bigint')
  id: string;

  @Column('uuid', { name: 'account_id' })
  accountId: string;

  @Column('varchar', { length: 16 })
  kind: CreditKind;

  @Column('bigint', { transformer: pointsTransformer })
  amount: number;

  @Column('bigint', { name: 'balance_after', transformer: pointsTransformer })
  balanceAfter: number;

  @Column('varchar', { length: 200, nullable: true })
  reference: string | null;

  @Column('varchar', { length: 500, nullable: true })
  reason: string | null;

  /** The caller's idempotency key, else `task:<task id>`; unique per account. */
  @Column('varchar', { name: 'idempotency_key', length: 220 })
  idempotencyKey: string;

  @Column('uuid', { name: 'task_id', nullable: true })
  taskId: string | null;

  /** GRANT only: when what is left of it expires. */
  @Column('timestamptz', { name: 'expires_at', nullable: true })
  expiresAt: Date | null;

  /** REFUND → its CONSUME; TRANSFER_IN → its TRANSFER_OUT; EXPIRE → its GRANT. */
  @Column('bigint', { name: 'related_id', nullable: true })
  relatedId: string | null;

  /** TRANSFER_IN/OUT: the other account. */
  @Column('uuid', { name: 'counterparty_account_id', nullable: true })
  counterpartyAccountId: string | null;

  @Column('timestamptz', { name: 'created_at' })
  createdAt: Date;
}

import { Column, Entity, PrimaryColumn } from 'typeorm';
import { toPoints } from '../credit-limits';

/** bigint columns come back from `pg` as strings; the schema's bounds make numbers exact. */
export const pointsTransformer = {
  to: (value: number) => value,
  from: (value: string | null) => (value === null ? null : toPoints(value)),
};

/**
 * A points account. `balance` always equals the sum of the account's ledger rows and is never
 * negative; `expiringBalance` is the part of it that came from grants with an expiry date and
 * has not been spent or expired yet (debits draw from it first).
 */
@Entity('credit_accounts')
export class CreditAccount {
  @PrimaryColumn('uuid')
  id: string;

  /** The API key that created the account: only it (and admins) may see or move its points. */
  @Column('uuid')
  owner: string;

  /** The caller's own user id, unique per owner when given. */
  @Column('varchar', { name: 'external_user_id', length: 200, nullable: true })
  externalUserId: string | null;

  @Column('bigint', { transformer: pointsTransformer })
  balance: number;

  @Column('bigint', { name: 'expiring_balance', transformer: pointsTransformer })
  expiringBalance: number;

  @Column('timestamptz', { name: 'created_at' })
  createdAt: Date;

  @Column('timestamptz', { name: 'updated_at' })
  updatedAt: Date;
}

import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';
import { SendAttemptColumns } from './send-attempt.columns';

/**
 * One recipient of a notification. `QUEUED` rows are sent once `next_attempt_at` has passed;
 * `SENDING` rows are claimed until `claimed_until` (a dead worker's claim expires); `SENT` and
 * `FAILED` are final.
 */
@Entity('email_deliveries')
export class EmailDelivery extends SendAttemptColumns {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column('uuid', { name: 'notification_id' })
  notificationId: string;

  /** Which `tasks.email.deliver` child the row belongs to. */
  @Column('int')
  batch: number;

  @Column('varchar', { length: 254 })
  address: string;

  /** The lower-cased address: unique per notification. */
  @Column('varchar', { name: 'address_key', length: 254 })
  addressKey: string;

  @Column('timestamptz', { name: 'next_attempt_at' })
  nextAttemptAt: Date;

  @Column('timestamptz', { name: 'claimed_until', nullable: true })
  claimedUntil: Date | null;
}

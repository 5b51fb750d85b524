import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';
import { EmailError, EmailStatus } from './email-message.entity';

/**
 * One recipient of a notification. `QUEUED` rows are sent once `next_attempt_at` has passed;
 * `SENDING` rows are claimed until `claimed_until` (a dead worker's claim expires); `SENT` and
 * `FAILED` are final.
 */
@Entity('email_deliveries')
export class EmailDelivery {
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

  @Column('varchar', { length: 16 })
  status: EmailStatus;

  @Column('int', { default: 0 })
  attempts: number;

  @Column('timestamptz', { name: 'next_attempt_at' })
  nextAttemptAt: Date;

  @Column('timestamptz', { name: 'claimed_until', nullable: true })
  claimedUntil: Date | null;

  @Column('varchar', { name: 'message_id', length: 998, nullable: true })
  messageId: string | null;

  @Column('text', { name: 'smtp_response', nullable: true })
  smtpResponse: string | null;

  @Column('jsonb', { nullable: true })
  error: EmailError | null;

  @Column('timestamptz', { name: 'created_at' })
  createdAt: Date;

  @Column('timestamptz', { name: 'updated_at' })
  updatedAt: Date;

  @Column('timestamptz', { name: 'sent_at', nullable: true })
  sentAt: Date | null;
}

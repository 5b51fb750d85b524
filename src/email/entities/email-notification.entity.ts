import { Column, Entity, PrimaryColumn } from 'typeorm';

/** One `tasks.email.send_notification`, rendered once; its id is the task's id. */
@Entity('email_notifications')
export class EmailNotification {
  @PrimaryColumn('uuid')
  id: string;

  @Column('uuid', { nullable: true })
  owner: string | null;

  @Column('varchar', { length: 300 })
  subject: string;

  @Column('varchar', { length: 100 })
  template: string;

  @Column('varchar', { length: 10 })
  locale: string;

  @Column('text')
  html: string;

  @Column('text')
  text: string;

  /** Unique recipients (deliveries). */
  @Column('int')
  total: number;

  /** Delivery batches, numbered 0 … batches - 1. */
  @Column('int')
  batches: number;

  /** Batches whose `tasks.email.deliver` child has been submitted (they are submitted in order). */
  @Column('int', { default: 0 })
  dispatched: number;

  @Column('timestamptz', { name: 'created_at' })
  createdAt: Date;
}

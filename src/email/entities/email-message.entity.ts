import { Column, Entity, PrimaryColumn } from 'typeorm';
import { SendAttemptColumns } from './send-attempt.columns';

/** One message of `tasks.email.send_email`; its id is the task's id. */
@Entity('email_messages')
export class EmailMessage extends SendAttemptColumns {
  @PrimaryColumn('uuid')
  id: string;

  @Column('uuid', { nullable: true })
  owner: string | null;

  @Column('varchar', { name: 'from_address', length: 400 })
  from: string;

  @Column('jsonb', { name: 'to_addresses' })
  to: string[];

  @Column('jsonb', { name: 'cc_addresses', default: [] })
  cc: string[];

  @Column('jsonb', { name: 'bcc_addresses', default: [] })
  bcc: string[];

  @Column('varchar', { length: 300 })
  subject: string;

  @Column('varchar', { length: 100, nullable: true })
  template: string | null;

  @Column('varchar', { length: 10, nullable: true })
  locale: string | null;

  @Column('jsonb', { default: [] })
  accepted: string[];

  @Column('jsonb', { default: [] })
  rejected: string[];
}

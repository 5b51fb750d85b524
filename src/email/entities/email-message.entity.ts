import { Column, Entity, PrimaryColumn } from 'typeorm';

export type EmailStatus = 'QUEUED' | 'SENDING' | 'SENT' | 'FAILED';

/** What a failed attempt left behind: the SMTP reply when there was one. */
export interface EmailError {
  message: string;
  code?: string;
  responseCode?: number;
  permanent: boolean;
}

/** One message of `tasks.email.send_email`; its id is the task's id. */
@Entity('email_messages')
export class EmailMessage {
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

  @Column('varchar', { length: 16 })
  status: EmailStatus;

  @Column('int', { default: 0 })
  attempts: number;

  /** The RFC 5322 Message-ID the message was sent with. */
  @Column('varchar', { name: 'message_id', length: 998, nullable: true })
  messageId: string | null;

  /** The server's final reply, e.g. `250 2.0.0 Ok: queued as …`. */
  @Column('text', { name: 'smtp_response', nullable: true })
  smtpResponse: string | null;

  @Column('jsonb', { default: [] })
  accepted: string[];

  @Column('jsonb', { default: [] })
  rejected: string[];

  @Column('jsonb', { nullable: true })
  error: EmailError | null;

  @Column('timestamptz', { name: 'created_at' })
  createdAt: Date;

  @Column('timestamptz', { name: 'updated_at' })
  updatedAt: Date;

  @Column('timestamptz', { name: 'sent_at', nullable: true })
  sentAt: Date | null;
}

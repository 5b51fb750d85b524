import { Column } from 'typeorm';

export type EmailStatus = 'QUEUED' | 'SENDING' | 'SENT' | 'FAILED';

/** What a failed attempt left behind: the SMTP reply when there was one. */
export interface EmailError {
  message: string;
  code?: string;
  responseCode?: number;
  permanent: boolean;
}

/**
 * The columns every sendable e-mail row has, a message as much as one recipient of a
 * notification: where its sending stands and what the SMTP server said.
 */
export abstract class SendAttemptColumns {
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

  @Column('jsonb', { nullable: true })
  error: EmailError | null;

  @Column('timestamptz', { name: 'created_at' })
  createdAt: Date;

  @Column('timestamptz', { name: 'updated_at' })
  updatedAt: Date;

  @Column('timestamptz', { name: 'sent_at', nullable: true })
  sentAt: Date | null;
}

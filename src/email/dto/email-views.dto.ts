import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

// Response schemas of GET /emails/{id} and GET /notifications/{taskId}/recipients (email.controller.ts),
// which return the email_messages / email_deliveries rows (send-attempt.columns.ts), for the OpenAPI
// document and the clients generated from it.

const EMAIL_STATUSES = ['QUEUED', 'SENDING', 'SENT', 'FAILED'];

export class EmailErrorDto {
  @ApiProperty({ example: '550 mailbox unavailable' })
  message: string;

  @ApiPropertyOptional({ example: 'EENVELOPE' })
  code?: string;

  @ApiPropertyOptional({ example: 550 })
  responseCode?: number;

  @ApiProperty({ description: 'True when retrying cannot help (5xx reply, invalid address, cancelled)' })
  permanent: boolean;
}

export class EmailMessageDto {
  @ApiProperty({ format: 'uuid', description: "The send_email task's id" })
  id: string;

  @ApiProperty({ type: String, format: 'uuid', nullable: true, description: 'The id of the API key that sent it' })
  owner: string | null;

  @ApiProperty({ enum: EMAIL_STATUSES })
  status: string;

  @ApiProperty()
  attempts: number;

  @ApiProperty({ type: String, nullable: true, description: 'The RFC 5322 Message-ID it was sent with' })
  messageId: string | null;

  @ApiProperty({ type: String, nullable: true, description: "The server's final reply" })
  smtpResponse: string | null;

  @ApiProperty({ type: EmailErrorDto, nullable: true })
  error: EmailErrorDto | null;

  @ApiProperty({ type: String, format: 'date-time' })
  createdAt: Date;

  @ApiProperty({ type: String, format: 'date-time' })
  updatedAt: Date;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  sentAt: Date | null;

  @ApiProperty()
  from: string;

  @ApiProperty({ type: [String] })
  to: string[];

  @ApiProperty({ type: [String] })
  cc: string[];

  @ApiProperty({ type: [String] })
  bcc: string[];

  @ApiProperty()
  subject: string;

  @ApiProperty({ type: String, nullable: true })
  template: string | null;

  @ApiProperty({ type: String, nullable: true })
  locale: string | null;

  @ApiProperty({ type: [String], description: 'Recipients the server accepted' })
  accepted: string[];

  @ApiProperty({ type: [String], description: 'Recipients the server refused' })
  rejected: string[];

  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' } })
  links: Record<string, string>;
}

export class DeliveryCountsDto {
  @ApiProperty()
  QUEUED: number;

  @ApiProperty()
  SENDING: number;

  @ApiProperty()
  SENT: number;

  @ApiProperty()
  FAILED: number;
}

export class RecipientDto {
  @ApiProperty()
  address: string;

  @ApiProperty({ enum: EMAIL_STATUSES })
  status: string;

  @ApiProperty()
  attempts: number;

  @ApiProperty({ type: String, nullable: true })
  messageId: string | null;

  @ApiProperty({ type: String, nullable: true })
  smtpResponse: string | null;

  @ApiProperty({ type: EmailErrorDto, nullable: true })
  error: EmailErrorDto | null;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  sentAt: Date | null;

  @ApiProperty({ type: String, format: 'date-time' })
  updatedAt: Date;
}

export class RecipientPageDto {
  @ApiProperty({ format: 'uuid' })
  taskId: string;

  @ApiProperty({ description: "The notification task's state" })
  state: string;

  @ApiProperty({ type: DeliveryCountsDto, description: 'Recipients by status, over all pages' })
  counts: DeliveryCountsDto;

  @ApiProperty({ type: [RecipientDto] })
  items: RecipientDto[];

  @ApiProperty({ type: String, nullable: true, description: 'Pass as `cursor` for the next page; null on the last' })
  nextCursor: string | null;
}

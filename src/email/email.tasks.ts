import { Transform, Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsEmail,
  IsIn,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  IsUUID,
  Length,
  Matches,
  MaxLength,
  Min,
  registerDecorator,
  ValidateIf,
  ValidateNested,
  ValidationOptions,
} from 'class-validator';
import { IsBase64Content } from '../common/is-base64.decorator';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { defineTask } from '../tasks/task-definition';
import { EMAIL_LOCALES, EmailLocale } from './email.environment';
import { EmailLimits } from './email.limits';
import { IsTemplateContext, TEMPLATE_NAMES } from './email-template.catalog';
import { AttachmentsWithinLimit, IsSafeHeaders, NoLineBreaks } from './header-safety';
import { QueueName } from '../tasks/queue-names';

type TemplateContext = Record<string, string | number>;

/** A file sent with the message: inline (`filename` + base64 `content`) or one of the caller's files by `fileId`. */
export class InlineAttachment {
  @ApiPropertyOptional({ description: 'One of your files (POST /files), streamed from storage; instead of content' })
  @IsOptional()
  @IsUUID('all', { message: 'fileId must be a file id (UUID)' })
  @NotWith('content')
  fileId?: string;

  @ApiProperty({ example: 'report.csv', description: "Optional with fileId (default: the file's name)" })
  @ValidateIf((o: InlineAttachment) => o.fileId === undefined || o.filename !== undefined)
  @IsString()
  @Length(1, EmailLimits.FILENAME_LENGTH)
  @NoLineBreaks()
  @Matches(/^[^\\/\0]+$/, { message: 'filename must not contain a path separator' })
  filename?: string;

  @ApiPropertyOptional({ example: 'text/csv', description: 'Guessed from the file name when omitted' })
  @IsOptional()
  @IsString()
  @Matches(/^[\w.+-]+\/[\w.+-]+$/, { message: 'contentType must look like type/subtype, e.g. application/pdf' })
  contentType?: string;

  @ApiProperty({ description: 'The file, base64 (all attachments together at most 3 MB decoded); unless fileId' })
  @ValidateIf((o: InlineAttachment) => o.fileId === undefined)
  @IsString()
  @IsBase64Content()
  content?: string;
}

/** Rejects the property when `other` is given too (a template brings its own text and HTML). */
function NotWith(other: string, options?: ValidationOptions) {
  return (object: object, propertyName: string) =>
    registerDecorator({
      name: 'notWith',
      target: object.constructor,
      propertyName,
      options: { message: `${propertyName} cannot be given together with ${other}`, ...options },
      validator: {
        validate: (value: unknown, args) =>
          value === undefined || (args?.object as Record<string, unknown>)[other] === undefined,
      },
    });
}

type FieldDecorator = (target: object, propertyName: string) => void;
/** The old callers passed `to: "a@x"`; one address is taken as a list of one. */
const oneOrMany = Transform(({ value }) => (typeof value === 'string' ? [value] : value)) as FieldDecorator;
const addressList = (name: string): FieldDecorator[] => [
  oneOrMany,
  IsArray(),
  ArrayMaxSize(EmailLimits.RECIPIENTS_PER_MESSAGE),
  NoLineBreaks(),
  MaxLength(EmailLimits.ADDRESS_LENGTH, { each: true }),
  IsEmail({}, { each: true, message: `each value in ${name} must be an e-mail address` }),
];
const apply =
  (decorators: FieldDecorator[]): PropertyDecorator =>
  (target, key) =>
    decorators.forEach((d) => d(target, String(key)));

export class SendEmailArgs {
  @ApiProperty({
    type: [String],
    example: ['ann@example.com'],
    description: 'Up to 50 addresses with cc and bcc; one address may be given as a string',
  })
  @apply([ArrayMinSize(1), ...addressList('to')])
  to: string[];

  @ApiPropertyOptional({ type: [String] })
  @IsOptional()
  @apply(addressList('cc'))
  cc?: string[];

  @ApiPropertyOptional({ type: [String] })
  @IsOptional()
  @apply(addressList('bcc'))
  bcc?: string[];

  @ApiProperty({ maxLength: EmailLimits.SUBJECT_LENGTH, description: 'No CR or LF' })
  @IsString()
  @Length(1, EmailLimits.SUBJECT_LENGTH)
  @NoLineBreaks()
  subject: string;

  @ApiPropertyOptional({ description: 'Plain-text body (generated from html when only html is given)' })
  @IsOptional()
  @IsString()
  @MaxLength(EmailLimits.BODY_CHARS)
  @NotWith('template')
  text?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(EmailLimits.BODY_CHARS)
  @NotWith('template')
  html?: string;

  /** Required unless `text` or `html` is given. */
  @ApiPropertyOptional({ enum: TEMPLATE_NAMES, description: 'Instead of text/html' })
  @ValidateIf((o: SendEmailArgs) => o.template !== undefined || (o.text === undefined && o.html === undefined))
  @IsIn(TEMPLATE_NAMES, { message: `template must be one of ${TEMPLATE_NAMES.join(', ')} (or give text and/or html)` })
  template?: string;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    description: "The template's fields (docs/email.md, Templates)",
  })
  @ValidateIf((o: SendEmailArgs) => o.template !== undefined)
  @IsObject()
  @IsTemplateContext()
  context?: TemplateContext;

  @ApiPropertyOptional({ enum: EMAIL_LOCALES, description: 'Default EMAIL_DEFAULT_LOCALE (en)' })
  @IsOptional()
  @IsIn(EMAIL_LOCALES)
  locale?: EmailLocale;

  @ApiPropertyOptional({ type: [InlineAttachment] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(EmailLimits.ATTACHMENTS)
  @IsObject({ each: true })
  @ValidateNested({ each: true })
  @Type(() => InlineAttachment)
  @AttachmentsWithinLimit()
  attachments?: InlineAttachment[];

  @ApiPropertyOptional({ type: 'object', additionalProperties: { type: 'string' }, example: { 'X-Report-Id': 'r-42' } })
  @IsOptional()
  @IsSafeHeaders()
  headers?: Record<string, string>;
}

export class SendNotificationArgs {
  @ApiProperty({ type: [String], description: 'Up to 20,000; duplicates (case-insensitive) are sent once' })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(EmailLimits.NOTIFICATION_RECIPIENTS)
  @NoLineBreaks()
  @MaxLength(EmailLimits.ADDRESS_LENGTH, { each: true })
  @IsEmail({}, { each: true, message: 'each value in recipients must be an e-mail address' })
  recipients: string[];

  @ApiProperty({ maxLength: EmailLimits.SUBJECT_LENGTH, description: 'No CR or LF' })
  @IsString()
  @Length(1, EmailLimits.SUBJECT_LENGTH)
  @NoLineBreaks()
  subject: string;

  @ApiProperty({ enum: TEMPLATE_NAMES })
  @IsIn(TEMPLATE_NAMES, { message: `template must be one of ${TEMPLATE_NAMES.join(', ')}` })
  template: string;

  @ApiProperty({ type: 'object', additionalProperties: true })
  @IsObject()
  @IsTemplateContext()
  context: TemplateContext;

  @ApiPropertyOptional({ enum: EMAIL_LOCALES, description: 'Default EMAIL_DEFAULT_LOCALE (en)' })
  @IsOptional()
  @IsIn(EMAIL_LOCALES)
  locale?: EmailLocale;
}

export class DeliverArgs {
  @IsUUID()
  notificationId: string;

  @IsInt()
  @Min(0)
  batch: number;
}

/** Sends one message and keeps its `email_messages` record (SMTP 5xx fails at once, 4xx and network errors retry). */
export const SendEmailTask = defineTask({
  name: 'tasks.email.send_email',
  celery:
    'send_email(to, subject, text=None, html=None, template=None, context=None, cc=None, bcc=None, locale=None, attachments=None, headers=None)',
  queue: QueueName.EMAIL,
  description: 'Sends one e-mail (text, HTML or a template) and records its delivery',
  payload: SendEmailArgs,
  // Retries are BullMQ's (1 s, 2 s, 4 s … about 2 minutes in all); a retry never re-sends an accepted message.
  retry: { attempts: 8, backoffMs: 1000 },
  timeoutMs: 120_000,
});

/** One notification to many recipients: one delivery per unique address, sent by `tasks.email.deliver` children. */
export const SendNotificationTask = defineTask({
  name: 'tasks.email.send_notification',
  celery: 'send_notification(recipients, subject, template, context, locale=None)',
  queue: QueueName.EMAIL,
  description: 'Sends a templated notification to many recipients, one delivery (with its own status) each',
  payload: SendNotificationArgs,
  // Only infrastructure errors retry the parent; a re-run resumes where it stopped.
  retry: { attempts: 3, backoffMs: 5000 },
  timeoutMs: 24 * 3600_000,
});

/** Sends the pending deliveries of one batch of a notification (a child of `send_notification`). */
export const DeliverTask = defineTask({
  name: 'tasks.email.deliver',
  queue: QueueName.EMAIL,
  description: 'Sends one batch of a notification; SMTP retries are per delivery, driven by the notification',
  payload: DeliverArgs,
  retry: { attempts: 3, backoffMs: 2000 },
  timeoutMs: 30 * 60_000,
});

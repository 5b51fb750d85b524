import { Transform } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Matches, Max, Min } from 'class-validator';
import { toInt, toTrimmed } from '../config/environment-transforms';

export const EMAIL_LOCALES = ['en', 'zh-CN'] as const;
export type EmailLocale = (typeof EMAIL_LOCALES)[number];

/** The e-mail domain's environment variables, read with `config.section(EmailEnvironment)`. */
export class EmailEnvironment {
  /**
   * `smtp://user:pass@host:587` (STARTTLS when the server offers it; add `?requireTLS=true` to
   * insist) or `smtps://user:pass@host:465` (TLS from the start). Unset: messages are written
   * as `.eml` files under `${DATA_DIR}/outbox/` and nothing is sent.
   */
  @IsOptional()
  @Transform(toTrimmed)
  @Matches(/^smtps?:\/\/[^\s]+$/, { message: 'SMTP_URL must be an smtp:// or smtps:// URL' })
  SMTP_URL?: string;

  @IsOptional()
  @IsString()
  @Matches(/^[^\r\n]+$/, { message: 'MAIL_FROM must be one line, e.g. "Task Service <no-reply@example.com>"' })
  MAIL_FROM = 'Task Service <no-reply@localhost>';

  /** Pooled SMTP connections per process. */
  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(100)
  SMTP_POOL_SIZE = 5;

  /** Messages one pooled connection carries before it is replaced. */
  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(1)
  SMTP_MAX_MESSAGES_PER_CONNECTION = 1000;

  /** One SMTP transaction (connect, envelope, data) may take this long before it counts as transient. */
  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(1000)
  @Max(600_000)
  EMAIL_SEND_TIMEOUT_MS = 30_000;

  /** Attempts per notification delivery (the first included) before it is FAILED. */
  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(50)
  EMAIL_MAX_ATTEMPTS = 8;

  /** Delay before a delivery's first retry; each next one doubles (capped at one hour). */
  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(10)
  @Max(3_600_000)
  EMAIL_RETRY_BACKOFF_MS = 2000;

  /** Recipients per delivery task (`tasks.email.deliver`). */
  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(1000)
  EMAIL_BATCH_SIZE = 50;

  /** Messages one delivery task has in flight at once. */
  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(200)
  EMAIL_SEND_CONCURRENCY = 10;

  /** How often a notification checks its deliveries (progress, retries that are due). */
  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(50)
  @Max(60_000)
  EMAIL_POLL_MS = 500;

  /** A delivery no delivery task has picked up for this long is sent by the notification itself. */
  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(0)
  EMAIL_ASSIST_AFTER_MS = 15_000;

  @IsOptional()
  @IsIn(EMAIL_LOCALES)
  EMAIL_DEFAULT_LOCALE: EmailLocale = 'en';
}

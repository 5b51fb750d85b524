import type { MailerOptions } from '@nestjs-modules/mailer';
import { Logger } from '@nestjs/common';
import { join, resolve } from 'node:path';
import { AppConfig } from '../config/app-config';
import { EmailEnvironment } from './email.environment';
import { MailDropTransport } from './mail-drop.transport';

/**
 * The `@nestjs-modules/mailer` options: a pooled SMTP transport for `SMTP_URL`, else the
 * `.eml` outbox. Bodies are rendered by {@link EmailTemplates} before they reach the mailer
 * (so a bad template is a 400 at submit), hence no template adapter here.
 */
export function mailerOptions(config: AppConfig): MailerOptions {
  const env = config.section(EmailEnvironment);
  const defaults = { from: env.MAIL_FROM } as MailerOptions['defaults'];
  if (!env.SMTP_URL) {
    return { transport: new MailDropTransport(outboxDir(config)), defaults, sendTimeout: env.EMAIL_SEND_TIMEOUT_MS };
  }
  return {
    transport: {
      url: env.SMTP_URL,
      pool: true,
      maxConnections: env.SMTP_POOL_SIZE,
      maxMessages: env.SMTP_MAX_MESSAGES_PER_CONNECTION,
      connectionTimeout: Math.min(10_000, env.EMAIL_SEND_TIMEOUT_MS),
      greetingTimeout: Math.min(10_000, env.EMAIL_SEND_TIMEOUT_MS),
      socketTimeout: env.EMAIL_SEND_TIMEOUT_MS,
    },
    defaults,
    sendTimeout: env.EMAIL_SEND_TIMEOUT_MS,
  };
}

/** Where e-mail goes, logged once at start (the mailer itself is created with the first message). */
export function announceMailer(config: AppConfig): void {
  const env = config.section(EmailEnvironment);
  const logger = new Logger('Email');
  if (!env.SMTP_URL) {
    logger.log(
      `No SMTP_URL is configured: e-mail is written as .eml files under ${outboxDir(config)} and not sent (set SMTP_URL to send)`,
    );
  } else {
    logger.log(`E-mail goes to ${describeSmtpUrl(env.SMTP_URL)} over ${env.SMTP_POOL_SIZE} pooled connection(s)`);
  }
}

function outboxDir(config: AppConfig): string {
  return resolve(join(config.env.DATA_DIR, 'outbox'));
}

/** The URL without its password, for logs. */
export function describeSmtpUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'SMTP_URL';
  }
}

import type { ISendMailOptions, MailerService } from '@nestjs-modules/mailer';
import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { inClientSpan } from '../tracing/client-span';
import { EmailEnvironment } from './email.environment';
import { EncodedPart } from './encoded-part';
import { announceMailer, mailerOptions } from './mailer-options';

/** What the server said when it took a message. */
export interface SentInfo {
  messageId: string;
  response: string;
  accepted: string[];
  rejected: string[];
}

/**
 * Hands composed messages to the mailer. Message-IDs are ours (`<record id@sender domain>`), so a
 * message re-sent after a crash carries the same id and receivers can tell it is a duplicate.
 * The mailer (`@nestjs-modules/mailer`, nodemailer, lodash: ~5 MB of heap) is created with the
 * first message, so only processes that send e-mail load it.
 */
@Injectable()
export class EmailSender implements OnApplicationShutdown {
  readonly from: string;
  private readonly domain: string;
  private mailerService?: MailerService;

  constructor(private readonly config: AppConfig) {
    this.from = config.section(EmailEnvironment).MAIL_FROM;
    this.domain = /@([^>\s]+)>?\s*$/.exec(this.from)?.[1] ?? 'localhost';
    announceMailer(config);
  }

  /** After `beforeApplicationShutdown`, where the workers let active sends finish: the pool closes then. */
  async onApplicationShutdown(): Promise<void> {
    await this.mailerService?.onModuleDestroy();
  }

  messageIdFor(recordId: string): string {
    return `<${recordId}@${this.domain}>`;
  }

  /** `text` and `html` may also be pre-encoded parts (`{ raw }`), which nodemailer sends as given. */
  async send(
    recordId: string,
    message: Omit<ISendMailOptions, 'from' | 'messageId' | 'text' | 'html'> & {
      text?: string | EncodedPart;
      html?: string | EncodedPart;
    },
  ): Promise<SentInfo> {
    const messageId = this.messageIdFor(recordId);
    // A span of its own: no instrumentation sees nodemailer's SMTP conversation.
    const info = await inClientSpan('smtp send', { 'smtp.message_id': messageId }, () =>
      // The mailer's typings know only strings for html; nodemailer itself takes { raw } parts.
      this.mailer().sendMail({ ...message, from: this.from, messageId } as ISendMailOptions),
    );
    return {
      messageId: String(info.messageId ?? this.messageIdFor(recordId)),
      response: String(info.response ?? ''),
      accepted: (info.accepted ?? []).map(String),
      rejected: (info.rejected ?? []).map(String),
    };
  }

  private mailer(): MailerService {
    if (!this.mailerService) {
      const { MailerService } = require('@nestjs-modules/mailer') as typeof import('@nestjs-modules/mailer');
      // Without a transport factory the service makes its own (nodemailer's createTransport).
      this.mailerService = new MailerService(mailerOptions(this.config), undefined as never);
    }
    return this.mailerService;
  }
}

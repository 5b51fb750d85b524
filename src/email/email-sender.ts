import { ISendMailOptions, MailerService } from '@nestjs-modules/mailer';
import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { inClientSpan } from '../tracing/client-span';
import { EmailEnvironment } from './email.environment';
import { EncodedPart } from './encoded-part';

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
 */
@Injectable()
export class EmailSender {
  readonly from: string;
  private readonly domain: string;

  constructor(
    private readonly mailer: MailerService,
    config: AppConfig,
  ) {
    this.from = config.section(EmailEnvironment).MAIL_FROM;
    this.domain = /@([^>\s]+)>?\s*$/.exec(this.from)?.[1] ?? 'localhost';
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
      this.mailer.sendMail({ ...message, from: this.from, messageId } as ISendMailOptions),
    );
    return {
      messageId: String(info.messageId ?? this.messageIdFor(recordId)),
      response: String(info.response ?? ''),
      accepted: (info.accepted ?? []).map(String),
      rejected: (info.rejected ?? []).map(String),
    };
  }
}

import { Logger } from '@nestjs/common';
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Transport } from 'nodemailer';
import type MailMessage from 'nodemailer/lib/mailer/mail-message';

export interface MailDropSentInfo {
  envelope: { from: string | false; to: string[] };
  messageId: string;
  accepted: string[];
  rejected: string[];
  response: string;
  path: string;
}

/**
 * The mail drop, the embedded default when no `SMTP_URL` is set (a "pickup directory" transport):
 * each message is written, exactly as it would go over SMTP (Bcc kept for the preview), to
 * `<dir>/<time>-<message id>.eml`. Open the file in any mail client to preview it. Nothing is
 * sent, and every write is logged so that is never a surprise. (Not to be confused with the
 * platform's outbox, the task records waiting for the queue transport.)
 */
export class MailDropTransport implements Transport<MailDropSentInfo> {
  readonly name = 'mail-drop';
  readonly version = '1';
  private readonly logger = new Logger(MailDropTransport.name);

  constructor(readonly dir: string) {}

  send(mail: MailMessage<MailDropSentInfo>, callback: (err: Error | null, info: MailDropSentInfo) => void): void {
    mail.message.keepBcc = true;
    const envelope = mail.message.getEnvelope();
    const messageId = mail.message.messageId();
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const path = join(this.dir, `${stamp}-${messageId.replace(/[^\w.@-]/g, '')}.eml`);
    mkdir(this.dir, { recursive: true })
      .then(() => pipeline(mail.message.createReadStream(), createWriteStream(path, { flags: 'wx' })))
      .then(() => {
        this.logger.log(
          `No SMTP_URL is configured: the message ${messageId} to ${envelope.to.join(', ')} was written to ${path} and not sent`,
        );
        callback(null, {
          envelope,
          messageId,
          accepted: envelope.to,
          rejected: [],
          response: `250 Written to ${path} (not sent: no SMTP_URL)`,
          path,
        });
      })
      .catch((error) => callback(error, undefined as never));
  }
}

import { Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { UnrecoverableError } from 'bullmq';
import { Readable } from 'node:stream';
import { Repository } from 'typeorm';
import { fieldErrorsException } from '../common/field-errors';
import { AppConfig } from '../config/app-config';
import { AttachableFile, FileAttachments } from '../file/file-attachments.service';
import { TaskContext } from '../tasks/task-definition';
import { EmailEnvironment } from './email.environment';
import { EmailLimits } from './email.limits';
import { SendEmailArgs, SendEmailTask } from './email.tasks';
import { EmailSender, SentInfo } from './email-sender';
import { EmailTemplates, htmlToText } from './email-templates';
import { EmailMessage } from './entities/email-message.entity';
import { writeAcceptedState } from './accepted-state-write';
import { classifySendError, describeFailure } from './smtp-errors';

export interface SendEmailResult {
  id: string;
  status: 'SENT';
  messageId: string | null;
  response: string | null;
  accepted: string[];
  rejected: string[];
  attempts: number;
  /** True when an earlier attempt had already been accepted and nothing was sent again. */
  alreadySent: boolean;
}

/** A 4xx reply or a network failure: BullMQ retries the task. */
export class TransientEmailError extends Error {
  override name = 'TransientEmailError';
}

/**
 * `tasks.email.send_email`: one message, one `email_messages` row (id = task id). The row is
 * claimed (`SENDING`, attempt counted) before the send and marked `SENT` in its own write the
 * moment the server accepts, so a retry or a re-delivered job never sends an accepted message
 * again. Only a crash in the instant between the server's 250 and that write can repeat a
 * message; it then carries the same Message-ID.
 */
@Injectable()
export class EmailService {
  private readonly logger = new Logger(EmailService.name);
  private readonly env: EmailEnvironment;

  constructor(
    @InjectRepository(EmailMessage) private readonly messages: Repository<EmailMessage>,
    private readonly sender: EmailSender,
    private readonly templates: EmailTemplates,
    private readonly fileAttachments: FileAttachments,
    config: AppConfig,
  ) {
    this.env = config.section(EmailEnvironment);
  }

  /** Creates the QUEUED record if it does not exist yet (at submit, and in the worker for `POST /tasks`). */
  async record(id: string, owner: string | null, args: SendEmailArgs): Promise<void> {
    const now = new Date();
    await this.messages
      .createQueryBuilder()
      .insert()
      .values({
        id,
        owner,
        from: this.sender.from,
        to: args.to,
        cc: args.cc ?? [],
        bcc: args.bcc ?? [],
        subject: args.subject,
        template: args.template ?? null,
        locale: args.template ? this.localeOf(args) : null,
        status: 'QUEUED',
        attempts: 0,
        accepted: [],
        rejected: [],
        createdAt: now,
        updatedAt: now,
      })
      .orIgnore()
      .execute();
  }

  async send(args: SendEmailArgs, ctx: TaskContext<SendEmailArgs>): Promise<SendEmailResult> {
    const id = ctx.taskId;
    await this.record(id, ctx.owner, args);
    // Checked again here: POST /tasks reaches the worker without the route's check.
    const files = await this.attachedFiles(args, ctx.owner).catch(async (error) => {
      const body = error.getResponse?.() as { errors?: { message: string }[] } | undefined;
      const message = body?.errors?.map((e) => e.message).join('; ') ?? error.message;
      await this.messages.update(id, { status: 'FAILED', error: { message, permanent: true }, updatedAt: new Date() });
      throw new UnrecoverableError(message);
    });
    const claimed = await this.messages
      .createQueryBuilder()
      .update()
      .set({ status: 'SENDING', attempts: () => 'attempts + 1', updatedAt: new Date() })
      .where('id = :id AND status <> :sent', { id, sent: 'SENT' })
      .execute();
    if (!claimed.affected) {
      this.logger.log({ msg: 'E-mail was already accepted by the server; not sending it again', taskId: id });
      return this.resultOf(await this.messages.findOneByOrFail({ id }), true);
    }
    const streams: Readable[] = [];
    let info: SentInfo;
    try {
      const message = await this.compose(args, files, streams);
      info = await this.sender.send(id, message);
    } catch (error) {
      throw await this.recordFailure(id, ctx.attempt, error);
    } finally {
      streams.forEach((s) => s.destroy());
    }
    await writeAcceptedState(() =>
      this.messages.update(id, {
        status: 'SENT',
        messageId: info.messageId,
        smtpResponse: info.response,
        accepted: info.accepted,
        rejected: info.rejected,
        error: null,
        sentAt: new Date(),
        updatedAt: new Date(),
      }),
    );
    return this.resultOf(await this.messages.findOneByOrFail({ id }), false);
  }

  /**
   * Attachments by file id: each must be a file of `owner` (checked through the File domain),
   * and inline bytes plus files stay within the one attachment cap. Throws a 400 naming the
   * field; at submit it reaches the caller, in the worker it fails the task for good.
   */
  async attachedFiles(args: SendEmailArgs, owner: string | null): Promise<Map<string, AttachableFile>> {
    const attachments = args.attachments ?? [];
    const ids = attachments.flatMap((a) => (a.fileId ? [a.fileId] : []));
    if (ids.length === 0) return new Map();
    const { found, missing } = await this.fileAttachments.lookup(ids, owner);
    const errors = attachments.flatMap((a, i) =>
      a.fileId && missing.includes(a.fileId)
        ? [{ field: `attachments.${i}.fileId`, rule: 'ownFile', message: `File ${a.fileId} not found` }]
        : [],
    );
    if (errors.length > 0) throw fieldErrorsException(errors);
    const total = attachments.reduce(
      (sum, a) => sum + (a.fileId ? found.get(a.fileId)!.size : Buffer.byteLength(a.content ?? '', 'base64')),
      0,
    );
    if (total > EmailLimits.ATTACHMENT_BYTES)
      throw fieldErrorsException([
        {
          field: 'attachments',
          rule: 'attachmentsWithinLimit',
          message: `attachments may hold at most ${EmailLimits.ATTACHMENT_BYTES} bytes in total (files by id included); these hold ${total}`,
        },
      ]);
    return found;
  }

  /** File attachments are streams from storage (nodemailer reads them while it writes to SMTP); `streams` collects them to be closed. */
  private async compose(args: SendEmailArgs, files: Map<string, AttachableFile>, streams: Readable[]) {
    let body: { html?: string; text?: string };
    if (args.template) {
      try {
        body = this.templates.render(args.template, this.localeOf(args), args.context ?? {});
      } catch (error) {
        throw new UnrecoverableError(`Template ${args.template} could not be rendered: ${error.message}`);
      }
    } else {
      body = { html: args.html, text: args.text ?? (args.html ? htmlToText(args.html) : undefined) };
    }
    return {
      to: args.to,
      cc: args.cc,
      bcc: args.bcc,
      subject: args.subject,
      ...body,
      headers: args.headers,
      attachments: args.attachments
        ? await Promise.all(
            args.attachments.map(async (a) => {
              if (!a.fileId)
                return { filename: a.filename, contentType: a.contentType, content: Buffer.from(a.content!, 'base64') };
              const file = files.get(a.fileId)!;
              const content = await this.fileAttachments.open(file);
              streams.push(content);
              return { filename: a.filename ?? file.name, contentType: a.contentType ?? file.mimeType, content };
            }),
          )
        : undefined,
    };
  }

  private async recordFailure(id: string, attempt: number, error: Error): Promise<Error> {
    const failure = classifySendError(error);
    const final = failure.permanent || attempt >= SendEmailTask.retry.attempts;
    const description = describeFailure(failure);
    await this.messages.update(id, {
      status: final ? 'FAILED' : 'QUEUED',
      error: {
        message: description,
        code: failure.code,
        responseCode: failure.responseCode,
        permanent: failure.permanent,
      },
      updatedAt: new Date(),
    });
    return failure.permanent ? new UnrecoverableError(description) : new TransientEmailError(description);
  }

  private localeOf(args: SendEmailArgs) {
    return args.locale ?? this.env.EMAIL_DEFAULT_LOCALE;
  }

  private resultOf(row: EmailMessage, alreadySent: boolean): SendEmailResult {
    return {
      id: row.id,
      status: 'SENT',
      messageId: row.messageId,
      response: row.smtpResponse,
      accepted: row.accepted,
      rejected: row.rejected,
      attempts: row.attempts,
      alreadySent,
    };
  }
}

import { Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { UnrecoverableError } from 'bullmq';
import { setTimeout as sleep } from 'node:timers/promises';
import { DataSource, In, Repository } from 'typeorm';
import { AppConfig } from '../config/app-config';
import { TaskContext } from '../tasks/task-definition';
import { taskRequest, TaskSubmissionService } from '../tasks/submit/task-submission.service';
import { DeliveryService, DrainTally } from './delivery.service';
import { EmailEnvironment } from './email.environment';
import { DeliverTask, SendNotificationArgs } from './email.tasks';
import { EmailTemplates } from './email-templates';
import { EmailDelivery } from './entities/email-delivery.entity';
import { EmailStatus } from './entities/send-attempt.columns';
import { EmailNotification } from './entities/email-notification.entity';
import { uniqueRecipients } from './recipients';

const INSERT_CHUNK = 1000;
const SUBMIT_CHUNK = 500;
/** How many recipients the task result lists by name (all of them are in GET …/recipients). */
const RESULT_LIST_LIMIT = 1000;

export type DeliveryCounts = Record<EmailStatus, number>;

export interface NotificationResult {
  notificationId: string;
  total: number;
  sent: number;
  failed: number;
  sentRecipients: string[];
  failedRecipients: { address: string; error: string | null }[];
  /** True when a list above was cut at 1,000 entries. */
  truncated: boolean;
  links: { recipients: string };
}

/**
 * `tasks.email.send_notification`. The task renders the message once, writes one
 * `email_deliveries` row per unique recipient (batch numbers assigned in order) and submits one
 * `tasks.email.deliver` child per batch of `EMAIL_BATCH_SIZE`: no job ever carries the sends of
 * thousands of recipients, and batches spread over every worker of the queue.
 *
 * The parent then waits, polling the deliveries table under its signal, so its own record is the
 * notification's progress and its result the final list (SUCCESS only once every delivery is
 * final). Waiting holds a worker slot; so that parents can never starve their own children of
 * slots (all slots held by waiting parents), a parent also sends rows no child has taken within
 * `EMAIL_ASSIST_AFTER_MS`, using the same claim as the children, so no row is sent twice.
 * Every step is idempotent, so a re-run (crash, stalled job) resumes where the last one stopped.
 */
@Injectable()
export class NotificationService {
  private readonly logger = new Logger(NotificationService.name);
  private readonly env: EmailEnvironment;

  constructor(
    @InjectRepository(EmailNotification) private readonly notifications: Repository<EmailNotification>,
    @InjectRepository(EmailDelivery) private readonly deliveries: Repository<EmailDelivery>,
    private readonly delivery: DeliveryService,
    private readonly templates: EmailTemplates,
    private readonly submission: TaskSubmissionService,
    private readonly dataSource: DataSource,
    config: AppConfig,
  ) {
    this.env = config.section(EmailEnvironment);
  }

  async run(args: SendNotificationArgs, ctx: TaskContext<SendNotificationArgs>): Promise<NotificationResult> {
    const notification = (await this.notifications.findOneBy({ id: ctx.taskId })) ?? (await this.create(args, ctx));
    await this.dispatch(notification, ctx.owner);
    try {
      await this.waitForDeliveries(notification, ctx);
    } catch (error) {
      // Cancelled: deliveries not sent yet are not sent at all (a timeout, by contrast, retries and resumes).
      if (ctx.signal.aborted && ctx.signal.reason?.name === 'TaskRevokedError')
        await this.cancelPending(notification.id);
      throw error;
    }
    return this.result(notification);
  }

  private async waitForDeliveries(
    notification: EmailNotification,
    ctx: TaskContext<SendNotificationArgs>,
  ): Promise<void> {
    const tally: DrainTally = { sent: 0, failed: 0, deferred: 0 };
    for (;;) {
      const counts = await this.counts(notification.id);
      const done = counts.SENT + counts.FAILED;
      ctx.progress({
        percent: Math.floor((done / Math.max(1, notification.total)) * 100),
        total: notification.total,
        sent: counts.SENT,
        failed: counts.FAILED,
        pending: notification.total - done,
      });
      if (done >= notification.total) break;
      const assisted = await this.delivery.drainOverdue(notification, this.env.EMAIL_ASSIST_AFTER_MS, tally);
      if (!assisted) await sleep(this.env.EMAIL_POLL_MS, undefined, { signal: ctx.signal });
    }
    if (tally.sent + tally.failed > 0)
      this.logger.log({ msg: 'Notification sent deliveries no delivery task had taken', taskId: ctx.taskId, ...tally });
  }

  private async cancelPending(notificationId: string): Promise<void> {
    const error = { message: 'The notification was cancelled before this delivery was sent', permanent: true };
    // SENDING rows too: one the server then accepts still becomes SENT (that write is unconditional), one it
    // refuses stays FAILED (failure writes only touch SENDING rows), so nothing is retried after a cancel.
    await this.deliveries.update(
      { notificationId, status: In(['QUEUED', 'SENDING']) },
      { status: 'FAILED', error, updatedAt: new Date() },
    );
    this.logger.log({ msg: 'Notification cancelled; its unsent deliveries are FAILED', taskId: notificationId });
  }

  /** Renders once and writes the notification and all its deliveries in one transaction. */
  private async create(args: SendNotificationArgs, ctx: TaskContext<SendNotificationArgs>): Promise<EmailNotification> {
    const locale = args.locale ?? this.env.EMAIL_DEFAULT_LOCALE;
    let body: { html: string; text: string };
    try {
      body = this.templates.render(args.template, locale, args.context);
    } catch (error) {
      throw new UnrecoverableError(`Template ${args.template} could not be rendered: ${error.message}`);
    }
    const recipients = uniqueRecipients(args.recipients);
    const batchSize = this.env.EMAIL_BATCH_SIZE;
    const now = new Date();
    const notification = Object.assign(new EmailNotification(), {
      id: ctx.taskId,
      owner: ctx.owner,
      subject: args.subject,
      template: args.template,
      locale,
      ...body,
      total: recipients.length,
      batches: Math.ceil(recipients.length / batchSize),
      dispatched: 0,
      createdAt: now,
    });
    await this.dataSource.transaction(async (manager) => {
      await manager.createQueryBuilder().insert().into(EmailNotification).values(notification).orIgnore().execute();
      for (let i = 0; i < recipients.length; i += INSERT_CHUNK) {
        const rows = recipients.slice(i, i + INSERT_CHUNK).map((r, j) => ({
          notificationId: notification.id,
          batch: Math.floor((i + j) / batchSize),
          address: r.address,
          addressKey: r.key,
          status: 'QUEUED' as const,
          attempts: 0,
          nextAttemptAt: now,
          createdAt: now,
          updatedAt: now,
        }));
        await manager
          .createQueryBuilder()
          .insert()
          .into(EmailDelivery)
          .values(rows)
          .orIgnore()
          .updateEntity(false)
          .execute();
      }
    });
    this.logger.log({
      msg: 'Notification created',
      taskId: ctx.taskId,
      recipients: args.recipients.length,
      unique: recipients.length,
      batches: notification.batches,
    });
    return this.notifications.findOneByOrFail({ id: ctx.taskId });
  }

  /** Submits the children not submitted yet, in order; a crash here at worst submits a chunk twice (harmless: rows are claimed). */
  private async dispatch(notification: EmailNotification, owner: string | null): Promise<void> {
    for (let first = notification.dispatched; first < notification.batches; first += SUBMIT_CHUNK) {
      const last = Math.min(notification.batches, first + SUBMIT_CHUNK);
      await this.submission.submitMany(
        Array.from({ length: last - first }, (_, k) =>
          taskRequest(
            DeliverTask,
            { notificationId: notification.id, batch: first + k },
            { owner, parentId: notification.id },
          ),
        ),
      );
      await this.notifications.update(notification.id, { dispatched: last });
      notification.dispatched = last;
    }
  }

  async counts(notificationId: string): Promise<DeliveryCounts> {
    const rows: { status: EmailStatus; count: string }[] = await this.deliveries
      .createQueryBuilder('d')
      .select('d.status', 'status')
      .addSelect('count(*)', 'count')
      .where('d.notification_id = :notificationId', { notificationId })
      .groupBy('d.status')
      .getRawMany();
    const counts: DeliveryCounts = { QUEUED: 0, SENDING: 0, SENT: 0, FAILED: 0 };
    for (const row of rows) counts[row.status] = Number(row.count);
    return counts;
  }

  private async result(notification: EmailNotification): Promise<NotificationResult> {
    const list = (status: EmailStatus) =>
      this.deliveries.find({
        where: { notificationId: notification.id, status },
        order: { addressKey: 'ASC' },
        take: RESULT_LIST_LIMIT + 1,
        select: { address: true, error: true },
      });
    const [sent, failed, counts] = await Promise.all([list('SENT'), list('FAILED'), this.counts(notification.id)]);
    return {
      notificationId: notification.id,
      total: notification.total,
      sent: counts.SENT,
      failed: counts.FAILED,
      sentRecipients: sent.slice(0, RESULT_LIST_LIMIT).map((d) => d.address),
      failedRecipients: failed
        .slice(0, RESULT_LIST_LIMIT)
        .map((d) => ({ address: d.address, error: d.error?.message ?? null })),
      truncated: sent.length > RESULT_LIST_LIMIT || failed.length > RESULT_LIST_LIMIT,
      links: { recipients: `/notifications/${notification.id}/recipients` },
    };
  }
}

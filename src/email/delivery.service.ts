import { Injectable, Logger } from '@nestjs/common';
import { UnrecoverableError } from 'bullmq';
import { InjectRepository } from '@nestjs/typeorm';
import { setTimeout as sleep } from 'node:timers/promises';
import { DataSource, Repository } from 'typeorm';
import { AppConfig } from '../config/app-config';
import { TaskContext } from '../tasks/task-definition';
import { EmailEnvironment } from './email.environment';
import { DeliverArgs } from './email.tasks';
import { EmailSender, SentInfo } from './email-sender';
import { EncodedPart, encodedPart } from './encoded-part';
import { EmailDelivery } from './entities/email-delivery.entity';
import { EmailNotification } from './entities/email-notification.entity';
import { writeAcceptedState } from './accepted-state-write';
import { classifySendError, describeFailure } from './smtp-errors';

export interface DrainTally {
  sent: number;
  failed: number;
  deferred: number;
}

interface Claimed {
  id: string;
  address: string;
  attempts: number;
}

/** Which deliveries a drain may take: one batch (a delivery task) or any overdue one (the notification's assist). */
export type DrainScope = { batch: number } | { overdueByMs: number };

/**
 * Sends notification deliveries. A row is claimed (`SENDING`, attempt counted, lease until
 * `claimed_until`) with `FOR UPDATE SKIP LOCKED`, so any number of tasks can drain one
 * notification without two of them sending the same row. The moment the server accepts, the
 * row is `SENT` in its own write. A transient failure puts it back `QUEUED` for later
 * (exponential backoff from `EMAIL_RETRY_BACKOFF_MS`), a permanent one or the last attempt makes
 * it `FAILED` with the server's reply.
 */
@Injectable()
export class DeliveryService {
  private readonly logger = new Logger(DeliveryService.name);
  private readonly env: EmailEnvironment;
  private readonly leaseMs: number;
  private readonly cache = new Map<string, { notification: EmailNotification; text: EncodedPart; html: EncodedPart }>();

  constructor(
    @InjectRepository(EmailDelivery) private readonly deliveries: Repository<EmailDelivery>,
    @InjectRepository(EmailNotification) private readonly notifications: Repository<EmailNotification>,
    private readonly sender: EmailSender,
    private readonly dataSource: DataSource,
    config: AppConfig,
  ) {
    this.env = config.section(EmailEnvironment);
    // Longer than any one send can take, so a live claim never expires under its sender.
    this.leaseMs = this.env.EMAIL_SEND_TIMEOUT_MS * 2 + 10_000;
  }

  async notification(id: string): Promise<EmailNotification | null> {
    return (await this.content(id))?.notification ?? null;
  }

  /** The notification with its body parts encoded once, for all its deliveries in this process. */
  private async content(id: string) {
    const cached = this.cache.get(id);
    if (cached) return cached;
    const notification = await this.notifications.findOneBy({ id });
    if (!notification) return null;
    const content = {
      notification,
      text: encodedPart('text/plain', notification.text),
      html: encodedPart('text/html', notification.html),
    };
    if (this.cache.size >= 100) this.cache.delete(this.cache.keys().next().value as string);
    this.cache.set(id, content);
    return content;
  }

  /** The `tasks.email.deliver` task: drains its batch of a notification of the task's owner. */
  async deliver(args: DeliverArgs, ctx: TaskContext<DeliverArgs>): Promise<DrainTally & { batch: number }> {
    const notification = await this.notification(args.notificationId);
    // Another client's notification is reported exactly like a missing one.
    if (!notification || (ctx.owner !== null && notification.owner !== ctx.owner))
      throw new UnrecoverableError(`Notification ${args.notificationId} not found`);
    return { batch: args.batch, ...(await this.drainBatch(notification, args.batch, ctx.signal)) };
  }

  /**
   * A delivery task's work: sends its batch, waiting out retry backoffs, until every row of the
   * batch is final (rows another sender holds are waited for until that sender finishes them).
   */
  async drainBatch(notification: EmailNotification, batch: number, signal: AbortSignal): Promise<DrainTally> {
    const tally: DrainTally = { sent: 0, failed: 0, deferred: 0 };
    for (;;) {
      const round = await this.drainRound(notification, { batch }, tally);
      if (round === 'sent') continue;
      if (round === 'connection') {
        await sleep(Math.min(this.env.EMAIL_RETRY_BACKOFF_MS, 30_000), undefined, { signal });
        continue;
      }
      const wait = await this.nextDueInMs(notification.id, batch);
      if (wait === null) return tally;
      await sleep(Math.max(50, Math.min(wait, this.env.EMAIL_POLL_MS * 4)), undefined, { signal });
    }
  }

  /** The notification's assist: sends rows that no delivery task took in time. True when it sent any. */
  async drainOverdue(notification: EmailNotification, overdueByMs: number, tally: DrainTally): Promise<boolean> {
    let claimedAny = false;
    while ((await this.drainRound(notification, { overdueByMs }, tally)) === 'sent') claimedAny = true;
    return claimedAny;
  }

  /** Claims and sends one round (`EMAIL_SEND_CONCURRENCY` rows in parallel). */
  private async drainRound(
    notification: EmailNotification,
    scope: DrainScope,
    tally: DrainTally,
  ): Promise<'sent' | 'idle' | 'connection'> {
    const rows = await this.claim(notification.id, scope, this.env.EMAIL_SEND_CONCURRENCY);
    if (rows.length === 0) return 'idle';
    const outcomes = await Promise.all(rows.map((row) => this.deliverOne(notification, row)));
    for (const outcome of outcomes) tally[outcome === 'connection' ? 'deferred' : outcome]++;
    // The server is unreachable: wait for the backoff rather than burn attempts of more rows.
    return outcomes.includes('connection') ? 'connection' : 'sent';
  }

  private async claim(notificationId: string, scope: DrainScope, limit: number): Promise<Claimed[]> {
    const batch = 'batch' in scope ? scope.batch : null;
    const overdueMs = 'overdueByMs' in scope ? scope.overdueByMs : 0;
    const [rows] = (await this.dataSource.query(
      `UPDATE email_deliveries SET status = 'SENDING', attempts = attempts + 1, updated_at = now(),
              claimed_until = now() + make_interval(secs => $3::double precision / 1000)
       WHERE id IN (
         SELECT id FROM email_deliveries
         WHERE notification_id = $1 AND ($2::int IS NULL OR batch = $2::int)
           AND ((status = 'QUEUED' AND next_attempt_at <= now() - make_interval(secs => $4::double precision / 1000))
                OR (status = 'SENDING' AND claimed_until < now()))
         ORDER BY next_attempt_at, id LIMIT $5 FOR UPDATE SKIP LOCKED)
       RETURNING id, address, attempts`,
      [notificationId, batch, this.leaseMs, overdueMs, limit],
    )) as [Claimed[], number];
    return rows;
  }

  private async deliverOne(
    notification: EmailNotification,
    row: Claimed,
  ): Promise<'sent' | 'failed' | 'deferred' | 'connection'> {
    const content = await this.content(notification.id);
    let info: SentInfo;
    try {
      info = await this.sender.send(row.id, {
        to: row.address,
        subject: notification.subject,
        text: content?.text ?? notification.text,
        html: content?.html ?? notification.html,
        headers: { 'X-Notification-Id': notification.id },
      });
    } catch (error) {
      return this.recordFailure(row, error);
    }
    // Plain SQL on the hot path: one statement per accepted message, nothing else before it.
    await writeAcceptedState(() =>
      this.dataSource.query(
        `UPDATE email_deliveries SET status = 'SENT', message_id = $2, smtp_response = $3, error = NULL, claimed_until = NULL, sent_at = now(), updated_at = now() WHERE id = $1`,
        [row.id, info.messageId, info.response],
      ),
    );
    return 'sent';
  }

  private async recordFailure(row: Claimed, error: Error): Promise<'failed' | 'deferred' | 'connection'> {
    const failure = classifySendError(error);
    const final = failure.permanent || row.attempts >= this.env.EMAIL_MAX_ATTEMPTS;
    const message =
      final && !failure.permanent
        ? `Gave up after ${row.attempts} attempts; last: ${describeFailure(failure)}`
        : describeFailure(failure);
    const backoffMs = Math.min(this.env.EMAIL_RETRY_BACKOFF_MS * 2 ** (row.attempts - 1), 3_600_000);
    await this.deliveries.update(
      { id: row.id, status: 'SENDING' },
      {
        status: final ? 'FAILED' : 'QUEUED',
        error: { message, code: failure.code, responseCode: failure.responseCode, permanent: failure.permanent },
        nextAttemptAt: new Date(Date.now() + (final ? 0 : backoffMs)),
        claimedUntil: null,
        updatedAt: new Date(),
      },
    );
    if (final)
      this.logger.warn({
        msg: 'Notification delivery failed',
        deliveryId: row.id,
        attempts: row.attempts,
        error: message,
      });
    return final ? 'failed' : failure.connection ? 'connection' : 'deferred';
  }

  /** Milliseconds until a row of the batch can be claimed again, or null when none is pending. */
  private async nextDueInMs(notificationId: string, batch: number): Promise<number | null> {
    const [row] = await this.dataSource.query(
      `SELECT EXTRACT(EPOCH FROM (min(CASE WHEN status = 'QUEUED' THEN next_attempt_at ELSE claimed_until END) - now())) * 1000 AS wait
       FROM email_deliveries WHERE notification_id = $1 AND batch = $2 AND status IN ('QUEUED', 'SENDING')`,
      [notificationId, batch],
    );
    return row?.wait === null || row?.wait === undefined ? null : Number(row.wait);
  }
}

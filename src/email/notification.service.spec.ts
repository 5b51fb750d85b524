import { Logger } from '@nestjs/common';
import { UnrecoverableError } from 'bullmq';
import { useSpecDatabase } from '../../test/support/spec-database';
import { specTaskContext } from '../../test/support/spec-task-context';
import { AppConfig } from '../config/app-config';
import { SubmitRequest, TaskSubmissionService } from '../tasks/submit/task-submission.service';
import { DeliveryService } from './delivery.service';
import { EmailSender, SentInfo } from './email-sender';
import { EmailTemplates } from './email-templates';
import { SendNotificationArgs } from './email.tasks';
import { EmailDelivery } from './entities/email-delivery.entity';
import { EmailNotification } from './entities/email-notification.entity';
import { NotificationService } from './notification.service';

/** Accepts every message but those of `refused`, which get a 550. */
class RecordingSender {
  readonly sent: string[] = [];
  readonly refused = new Set<string>();

  async send(recordId: string, message: { to: string }): Promise<SentInfo> {
    if (this.refused.has(message.to))
      throw Object.assign(new Error('refused'), { responseCode: 550, response: '550 5.1.1 No such user' });
    this.sent.push(message.to);
    return { messageId: `<${recordId}@spec>`, response: '250 Ok', accepted: [message.to], rejected: [] };
  }
}

const templates = EmailTemplates.load();

const ARGS: SendNotificationArgs = {
  recipients: ['Ann@x.test', 'bob@x.test', 'ann@x.test', 'cy@x.test', 'dee@x.test'],
  subject: 'Maintenance tonight',
  template: 'notification',
  context: { title: 'Maintenance', body: 'The service is down from 22:00.' },
};

describe('NotificationService: fan-out to deliveries (PostgreSQL)', () => {
  const db = useSpecDatabase([EmailDelivery, EmailNotification]);
  let sender: RecordingSender;
  let sut: NotificationService;
  let submitted: SubmitRequest[][];
  let submitMany: jest.Mock<Promise<unknown[]>, [SubmitRequest[]]>;

  /** The parent sends everything itself when `assistAfterMs` is 0 (no child task runs in a unit spec). */
  function notificationService(assistAfterMs = 0): NotificationService {
    const config = AppConfig.fromEnv({
      EMAIL_BATCH_SIZE: '2',
      EMAIL_ASSIST_AFTER_MS: String(assistAfterMs),
      EMAIL_POLL_MS: '50',
      EMAIL_RETRY_BACKOFF_MS: '10',
    });
    const { dataSource } = db.current;
    const notifications = db.current.repository(EmailNotification);
    const deliveries = db.current.repository(EmailDelivery);
    const delivery = new DeliveryService(
      deliveries,
      notifications,
      sender as unknown as EmailSender,
      dataSource,
      config,
    );
    const submission = { submitMany } as unknown as TaskSubmissionService;
    return new NotificationService(notifications, deliveries, delivery, templates, submission, dataSource, config);
  }

  /** The task's record: a notification is the result of its task and references it. */
  async function taskContext(controller = new AbortController()) {
    const ctx = specTaskContext<SendNotificationArgs>({ args: ARGS, signal: controller.signal });
    await db.current.dataSource.query(
      `INSERT INTO task_runs (id, name, queue, state, max_attempts, run_at, created_at, updated_at)
       VALUES ($1, 'tasks.email.send_notification', 'email', 'STARTED', 3, now(), now(), now())`,
      [ctx.taskId],
    );
    return ctx;
  }

  const deliveries = (notificationId: string) =>
    db.current
      .repository(EmailDelivery)
      .find({ where: { notificationId }, order: { batch: 'ASC', addressKey: 'ASC' } });

  beforeEach(async () => {
    await db.current.empty('email_deliveries', 'email_notifications', 'task_runs');
    sender = new RecordingSender();
    submitted = [];
    submitMany = jest.fn(async (requests: SubmitRequest[]) => {
      submitted.push(requests);
      return [];
    });
    sut = notificationService();
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  });

  afterEach(() => jest.restoreAllMocks());

  it('writes one delivery per unique address (case-insensitive), in batches, and one deliver child per batch', async () => {
    const ctx = await taskContext();
    const result = await sut.run(ARGS, ctx);
    const rows = await deliveries(ctx.taskId);
    expect(rows.map((r) => [r.batch, r.address])).toEqual([
      [0, 'Ann@x.test'],
      [0, 'bob@x.test'],
      [1, 'cy@x.test'],
      [1, 'dee@x.test'],
    ]);
    expect(submitted.flat()).toEqual(
      [0, 1].map((batch) => ({
        name: 'tasks.email.deliver',
        args: { notificationId: ctx.taskId, batch },
        owner: null,
        parentId: ctx.taskId,
      })),
    );
    expect(result).toMatchObject({
      notificationId: ctx.taskId,
      total: 4,
      sent: 4,
      failed: 0,
      sentRecipients: ['Ann@x.test', 'bob@x.test', 'cy@x.test', 'dee@x.test'],
      truncated: false,
    });
    await expect(db.current.repository(EmailNotification).findOneByOrFail({ id: ctx.taskId })).resolves.toMatchObject({
      total: 4,
      batches: 2,
      dispatched: 2,
      locale: 'en',
      subject: 'Maintenance tonight',
    });
  });

  it('renders the message once, for every delivery', async () => {
    const ctx = await taskContext();
    await sut.run(ARGS, ctx);
    const notification = await db.current.repository(EmailNotification).findOneByOrFail({ id: ctx.taskId });
    expect(notification.html).toContain('The service is down from 22:00.');
    expect(notification.text).toContain('The service is down from 22:00.');
  });

  it('ends only when every delivery is final, listing the refused ones with the server reply', async () => {
    sender.refused.add('cy@x.test');
    const ctx = await taskContext();
    const result = await sut.run(ARGS, ctx);
    expect(result).toMatchObject({
      sent: 3,
      failed: 1,
      failedRecipients: [{ address: 'cy@x.test', error: 'SMTP 550: 550 5.1.1 No such user' }],
    });
    expect(ctx.progressReports.at(-1)).toEqual({ percent: 100, total: 4, sent: 3, failed: 1, pending: 0 });
  });

  it('resumes a re-run without writing, submitting or sending anything twice', async () => {
    const ctx = await taskContext();
    submitMany.mockRejectedValueOnce(new Error('Redis is down'));
    await expect(sut.run(ARGS, ctx)).rejects.toThrow('Redis is down');
    expect(sender.sent).toEqual([]);
    const first = await sut.run(ARGS, ctx);
    const again = await sut.run(ARGS, ctx);
    expect(again).toEqual(first);
    expect(submitted.flat()).toHaveLength(2);
    expect(sender.sent.sort()).toEqual(['Ann@x.test', 'bob@x.test', 'cy@x.test', 'dee@x.test']);
    await expect(deliveries(ctx.taskId)).resolves.toHaveLength(4);
  });

  it('fails a notification whose template cannot be rendered at once, writing nothing', async () => {
    const ctx = await taskContext();
    const run = sut.run({ ...ARGS, template: 'no-such-template' }, ctx);
    await expect(run).rejects.toBeInstanceOf(UnrecoverableError);
    await expect(run).rejects.toThrow(/Template no-such-template could not be rendered/);
    await expect(db.current.repository(EmailNotification).countBy({ id: ctx.taskId })).resolves.toBe(0);
    expect(submitMany).not.toHaveBeenCalled();
  });

  it('fails every delivery not sent yet when the notification is cancelled', async () => {
    const controller = new AbortController();
    const ctx = await taskContext(controller);
    // No assist within the spec: nothing is sent until the (absent) children run.
    sut = notificationService(3600_000);
    const run = sut.run(ARGS, ctx);
    setTimeout(() => controller.abort(Object.assign(new Error('revoked'), { name: 'TaskRevokedError' })), 100);
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
    const rows = await deliveries(ctx.taskId);
    expect(rows.map((r) => [r.status, r.error?.permanent])).toEqual(Array(4).fill(['FAILED', true]));
    expect(sender.sent).toEqual([]);
  });

  it('leaves the deliveries pending when the notification times out, so a retry resumes them', async () => {
    const controller = new AbortController();
    const ctx = await taskContext(controller);
    sut = notificationService(3600_000);
    const run = sut.run(ARGS, ctx);
    setTimeout(() => controller.abort(Object.assign(new Error('timed out'), { name: 'TaskTimeoutError' })), 100);
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
    const rows = await deliveries(ctx.taskId);
    expect(rows.map((r) => r.status)).toEqual(['QUEUED', 'QUEUED', 'QUEUED', 'QUEUED']);
  });
});

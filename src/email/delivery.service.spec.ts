import { Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { useSpecDatabase } from '../../test/support/spec-database';
import { AppConfig } from '../config/app-config';
import { DeliveryService, DrainTally } from './delivery.service';
import { EmailSender, SentInfo } from './email-sender';
import { EmailDelivery } from './entities/email-delivery.entity';
import { EmailNotification } from './entities/email-notification.entity';

/** What an SMTP server can answer to one message: accept, or an error shaped as nodemailer's. */
type Reply = 'ok' | { responseCode?: number; code?: string; response?: string; message?: string };

/** A sender that plays a script of replies per address (then accepts) and records each send. */
class ScriptedSender {
  readonly sent: { recordId: string; to: string }[] = [];
  readonly script = new Map<string, Reply[]>();
  /** Runs inside a send, before the reply: lets a spec act while a delivery is SENDING. */
  during?: (recordId: string) => Promise<void>;

  async send(recordId: string, message: { to: string }): Promise<SentInfo> {
    await this.during?.(recordId);
    const reply = this.script.get(message.to)?.shift() ?? 'ok';
    if (reply !== 'ok') throw Object.assign(new Error(reply.message ?? reply.response ?? 'failed'), reply);
    this.sent.push({ recordId, to: message.to });
    return { messageId: `<${recordId}@spec>`, response: '250 2.0.0 Ok: queued', accepted: [message.to], rejected: [] };
  }
}

const SMTP_451 = { responseCode: 451, response: '451 4.3.0 Try again later' };
const SMTP_550 = { responseCode: 550, response: '550 5.1.1 No such user' };
const DOWN = { code: 'ECONNECTION', message: 'connect ECONNREFUSED 127.0.0.1:2525' };

describe('DeliveryService: the delivery state machine (PostgreSQL)', () => {
  const db = useSpecDatabase([EmailDelivery, EmailNotification]);
  let sender: ScriptedSender;
  let notification: EmailNotification;
  let sut: DeliveryService;
  const signal = new AbortController().signal;
  const tally = (): DrainTally => ({ sent: 0, failed: 0, deferred: 0 });

  function deliveryService(env: Record<string, string> = {}): DeliveryService {
    const config = AppConfig.fromEnv({
      EMAIL_RETRY_BACKOFF_MS: '10',
      EMAIL_MAX_ATTEMPTS: '3',
      EMAIL_SEND_CONCURRENCY: '4',
      EMAIL_POLL_MS: '50',
      ...env,
    });
    return new DeliveryService(
      db.current.repository(EmailDelivery),
      db.current.repository(EmailNotification),
      sender as unknown as EmailSender,
      db.current.dataSource,
      config,
    );
  }

  /** A notification whose deliveries are `batches[b]` (addresses), all QUEUED and due now. */
  async function notificationWith(batches: string[][]): Promise<EmailNotification> {
    const id = randomUUID();
    const { dataSource } = db.current;
    await dataSource.query(
      `INSERT INTO task_runs (id, name, queue, state, max_attempts, run_at, created_at, updated_at)
       VALUES ($1, 'tasks.email.send_notification', 'email', 'STARTED', 3, now(), now(), now())`,
      [id],
    );
    const total = batches.flat().length;
    await dataSource.query(
      `INSERT INTO email_notifications (id, subject, template, locale, html, text, total, batches, dispatched, created_at)
       VALUES ($1, 'Hello', 'notification', 'en', '<p>Hi</p>', 'Hi', $2, $3, $3, now())`,
      [id, total, batches.length],
    );
    for (const [batch, addresses] of batches.entries())
      for (const address of addresses)
        await dataSource.query(
          `INSERT INTO email_deliveries (notification_id, batch, address, address_key, status, next_attempt_at, created_at, updated_at)
           VALUES ($1, $2, $3::varchar, lower($3::varchar), 'QUEUED', now(), now(), now())`,
          [id, batch, address],
        );
    return db.current.repository(EmailNotification).findOneByOrFail({ id });
  }

  const rows = () =>
    db.current
      .repository(EmailDelivery)
      .find({ where: { notificationId: notification.id }, order: { address: 'ASC' } });
  const row = async (address: string) => (await rows()).find((r) => r.address === address)!;

  beforeEach(async () => {
    await db.current.empty('email_deliveries', 'email_notifications', 'task_runs');
    sender = new ScriptedSender();
    sut = deliveryService();
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  });

  afterEach(() => jest.restoreAllMocks());

  it("sends each delivery of its batch once, records the server's reply, and leaves other batches alone", async () => {
    notification = await notificationWith([['a@x.test', 'b@x.test', 'c@x.test'], ['d@x.test']]);
    await expect(sut.drainBatch(notification, 0, signal)).resolves.toEqual({ sent: 3, failed: 0, deferred: 0 });
    expect(sender.sent.map((s) => s.to).sort()).toEqual(['a@x.test', 'b@x.test', 'c@x.test']);
    const a = await row('a@x.test');
    expect(a).toMatchObject({ status: 'SENT', attempts: 1, smtpResponse: '250 2.0.0 Ok: queued', claimedUntil: null });
    expect(a.messageId).toBe(`<${a.id}@spec>`);
    expect(a.sentAt).toBeInstanceOf(Date);
    await expect(row('d@x.test')).resolves.toMatchObject({ status: 'QUEUED', attempts: 0 });
  });

  it('fails a delivery the server refuses with 5xx at once, keeping the reply', async () => {
    notification = await notificationWith([['gone@x.test', 'ok@x.test']]);
    sender.script.set('gone@x.test', [SMTP_550]);
    await expect(sut.drainBatch(notification, 0, signal)).resolves.toEqual({ sent: 1, failed: 1, deferred: 0 });
    await expect(row('gone@x.test')).resolves.toMatchObject({
      status: 'FAILED',
      attempts: 1,
      error: { message: 'SMTP 550: 550 5.1.1 No such user', responseCode: 550, permanent: true },
    });
  });

  it('puts a delivery back QUEUED after a 4xx, not due again before its backoff', async () => {
    notification = await notificationWith([['busy@x.test']]);
    sender.script.set('busy@x.test', [SMTP_451]);
    const before = Date.now();
    const t = tally();
    sut = deliveryService({ EMAIL_RETRY_BACKOFF_MS: '60000' });
    await expect(sut.drainOverdue(notification, 0, t)).resolves.toBe(true);
    expect(t).toEqual({ sent: 0, failed: 0, deferred: 1 });
    const busy = await row('busy@x.test');
    expect(busy).toMatchObject({ status: 'QUEUED', attempts: 1, claimedUntil: null, error: { permanent: false } });
    expect(busy.nextAttemptAt.getTime()).toBeGreaterThanOrEqual(before + 60_000);
    expect(sender.sent).toEqual([]);
  });

  it('retries a 4xx when its backoff is over, and sends it once', async () => {
    notification = await notificationWith([['busy@x.test']]);
    sender.script.set('busy@x.test', [SMTP_451]);
    await expect(sut.drainBatch(notification, 0, signal)).resolves.toEqual({ sent: 1, failed: 0, deferred: 1 });
    await expect(row('busy@x.test')).resolves.toMatchObject({ status: 'SENT', attempts: 2, error: null });
    expect(sender.sent).toHaveLength(1);
  });

  it('gives up after EMAIL_MAX_ATTEMPTS transient failures, saying so', async () => {
    notification = await notificationWith([['busy@x.test']]);
    sender.script.set('busy@x.test', [SMTP_451, SMTP_451, SMTP_451, SMTP_451]);
    await expect(sut.drainBatch(notification, 0, signal)).resolves.toEqual({ sent: 0, failed: 1, deferred: 2 });
    await expect(row('busy@x.test')).resolves.toMatchObject({
      status: 'FAILED',
      attempts: 3,
      error: { message: 'Gave up after 3 attempts; last: SMTP 451: 451 4.3.0 Try again later', permanent: false },
    });
  });

  it('waits out an unreachable server and then sends every delivery of the batch', async () => {
    notification = await notificationWith([['a@x.test', 'b@x.test']]);
    sender.script.set('a@x.test', [DOWN]);
    sender.script.set('b@x.test', [DOWN]);
    await expect(sut.drainBatch(notification, 0, signal)).resolves.toEqual({ sent: 2, failed: 0, deferred: 2 });
    expect((await rows()).map((r) => [r.status, r.attempts])).toEqual([
      ['SENT', 2],
      ['SENT', 2],
    ]);
  });

  it('never sends one delivery twice when several drains take the same batch at once', async () => {
    const addresses = Array.from({ length: 24 }, (_, i) => `user${i}@x.test`);
    notification = await notificationWith([addresses]);
    sender.during = () => new Promise((resolve) => setTimeout(resolve, 5));
    sut = deliveryService({ EMAIL_SEND_CONCURRENCY: '3' });
    const rival = deliveryService({ EMAIL_SEND_CONCURRENCY: '3' });
    const tallies = await Promise.all([
      sut.drainBatch(notification, 0, signal),
      rival.drainBatch(notification, 0, signal),
      sut.drainOverdue(notification, 0, tally()),
    ]);
    expect(sender.sent.map((s) => s.to).sort()).toEqual([...addresses].sort());
    expect(tallies[0].sent + tallies[1].sent).toBeLessThanOrEqual(24);
    expect((await rows()).every((r) => r.status === 'SENT' && r.attempts === 1)).toBe(true);
  });

  it("takes over a delivery whose sender's lease has run out, but not one still leased", async () => {
    notification = await notificationWith([['dead@x.test', 'live@x.test']]);
    await db.current.dataSource.query(
      `UPDATE email_deliveries SET status = 'SENDING', attempts = 1,
              claimed_until = CASE address WHEN 'dead@x.test' THEN now() - interval '1 second' ELSE now() + interval '1 hour' END
       WHERE notification_id = $1`,
      [notification.id],
    );
    await sut.drainOverdue(notification, 0, tally());
    expect(sender.sent.map((s) => s.to)).toEqual(['dead@x.test']);
    await expect(row('dead@x.test')).resolves.toMatchObject({ status: 'SENT', attempts: 2 });
    await expect(row('live@x.test')).resolves.toMatchObject({ status: 'SENDING', attempts: 1 });
  });

  it('finishes its batch only once a row another sender holds is final too', async () => {
    notification = await notificationWith([['held@x.test', 'mine@x.test']]);
    await db.current.dataSource.query(
      `UPDATE email_deliveries SET status = 'SENDING', attempts = 1, claimed_until = now() + interval '1 hour'
       WHERE address = 'held@x.test'`,
    );
    let finished = false;
    const drain = sut.drainBatch(notification, 0, signal).finally(() => (finished = true));
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(finished).toBe(false);
    await db.current.dataSource.query(`UPDATE email_deliveries SET status = 'SENT' WHERE address = 'held@x.test'`);
    await expect(drain).resolves.toEqual({ sent: 1, failed: 0, deferred: 0 });
    expect(sender.sent.map((s) => s.to)).toEqual(['mine@x.test']);
  });

  it('lets the notification assist only with deliveries overdue by the given time', async () => {
    notification = await notificationWith([['fresh@x.test', 'stale@x.test']]);
    await db.current.dataSource.query(
      `UPDATE email_deliveries SET next_attempt_at = now() - interval '2 minutes' WHERE address = 'stale@x.test'`,
    );
    await expect(sut.drainOverdue(notification, 60_000, tally())).resolves.toBe(true);
    expect(sender.sent.map((s) => s.to)).toEqual(['stale@x.test']);
    await expect(row('fresh@x.test')).resolves.toMatchObject({ status: 'QUEUED', attempts: 0 });
  });

  it('does not revive a delivery cancelled while it was being sent when the send then fails', async () => {
    notification = await notificationWith([['a@x.test']]);
    sender.script.set('a@x.test', [SMTP_451]);
    sender.during = (id) =>
      db.current.dataSource
        .query(
          `UPDATE email_deliveries SET status = 'FAILED', error = '{"message":"cancelled","permanent":true}' WHERE id = $1`,
          [id],
        )
        .then(() => undefined);
    await sut.drainOverdue(notification, 0, tally());
    await expect(row('a@x.test')).resolves.toMatchObject({ status: 'FAILED', error: { message: 'cancelled' } });
  });

  it('records a delivery the server accepted as SENT even if it was cancelled meanwhile', async () => {
    notification = await notificationWith([['a@x.test']]);
    sender.during = (id) =>
      db.current.dataSource
        .query(`UPDATE email_deliveries SET status = 'FAILED' WHERE id = $1`, [id])
        .then(() => undefined);
    await sut.drainOverdue(notification, 0, tally());
    await expect(row('a@x.test')).resolves.toMatchObject({ status: 'SENT', error: null });
  });
});

import { Client } from 'pg';
import { ApiClient } from './support/api-client';
import { SmtpSink } from './support/smtp-sink';
import { startTestService, TestService } from './support/test-service';
import { until } from './support/until';
import { TaskState } from '../src/tasks/task-state';

const context = {
  title: 'Maintenance tonight',
  body: 'The service pauses at 22:00 for ten minutes.',
  actionUrl: 'https://status.example.test',
};

/** `tasks.email.send_notification`: one delivery per unique recipient, each with its own status and retries. */
describe('Notifications over SMTP: POST /notifications', () => {
  let sink: SmtpSink;
  let svc: TestService;
  let api: ApiClient;
  let db: Client;

  beforeAll(async () => {
    sink = await SmtpSink.start();
    svc = await startTestService({
      SMTP_URL: sink.url,
      EMAIL_BATCH_SIZE: '25',
      EMAIL_RETRY_BACKOFF_MS: '200',
      EMAIL_POLL_MS: '100',
      SMTP_POOL_SIZE: '4',
    });
    api = await svc.newClient();
    db = new Client({ connectionString: process.env.TEST_DATABASE_URL });
    await db.connect();
  });
  afterAll(async () => {
    await db?.end();
    await svc?.stop();
    await sink?.stop();
  });

  const notify = async (recipients: string[], extra: Record<string, unknown> = {}) => {
    const response = await api.post('/notifications', {
      recipients,
      subject: 'Maintenance',
      template: 'notification',
      context,
      ...extra,
    });
    if (response.status !== 202)
      throw new Error(`POST /notifications gave ${response.status}: ${JSON.stringify(response.body)}`);
    return response.body;
  };
  const allRecipients = async (taskId: string, limit: number) => {
    const items: any[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: { status: number; body: any } = await api.get(
        `/notifications/${taskId}/recipients?limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      );
      expect(page.status).toBe(200);
      items.push(...page.body.items);
      cursor = page.body.nextCursor;
      pages++;
    } while (cursor);
    return { items, pages };
  };

  it('delivers 200 recipients exactly once each, de-duplicated case-insensitively, through child tasks', async () => {
    const before = sink.messages.length;
    const unique = Array.from({ length: 200 }, (_, i) => `user${i}@example.test`);
    const duplicates = unique.slice(0, 30).map((a) => a.toUpperCase());
    const task = await notify([...unique, ...duplicates], { locale: 'en' });
    expect(task.links.recipients).toBe(`/notifications/${task.id}/recipients`);

    const done = await api.waitForTask(task.id, undefined, 90_000);
    expect(done).toMatchObject({
      state: 'SUCCESS',
      result: { total: 200, sent: 200, failed: 0, failedRecipients: [], truncated: false },
    });
    expect(done.result.sentRecipients).toHaveLength(200);

    await new Promise((r) => setTimeout(r, 300)); // nothing more may arrive
    const arrived = sink.messages.slice(before);
    expect(arrived).toHaveLength(200);
    expect(arrived.every((m) => m.to.length === 1)).toBe(true);
    expect(new Set(arrived.map((m) => m.to[0].toLowerCase()))).toEqual(new Set(unique));
    const mail = await sink.parse(arrived[0]);
    expect(mail.subject).toBe('Maintenance');
    expect(mail.headers.get('x-notification-id')).toBe(task.id);
    expect(mail.text).toContain('The service pauses at 22:00');
    expect(mail.html).toContain('href="https://status.example.test"');

    const { items, pages } = await allRecipients(task.id, 80);
    expect(pages).toBe(3);
    expect(items).toHaveLength(200);
    expect(
      items.every((d) => d.status === 'SENT' && d.attempts === 1 && d.messageId && /^250 /.test(d.smtpResponse)),
    ).toBe(true);

    // The parent ends when every delivery is final; a child records its own SUCCESS a moment after its last send.
    let children: { name: string; state: string }[] = [];
    for (const deadline = Date.now() + 10_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 100))) {
      children = (await db.query(`SELECT name, state FROM task_runs WHERE parent_id = $1`, [task.id])).rows;
      if (children.every((c) => c.state === 'SUCCESS')) break;
    }
    expect(children).toHaveLength(8);
    expect(children.every((c) => c.name === 'tasks.email.deliver' && c.state === 'SUCCESS')).toBe(true);
    // The same children through the API.
    const listed = await api.get(`/tasks?parentId=${task.id}&limit=100`);
    expect(listed.body.items).toHaveLength(8);
    expect(listed.body.items.every((t: { parentId: string }) => t.parentId === task.id)).toBe(true);
  });

  it('marks a recipient the server rejects with 550 FAILED and the others SENT, and reports both', async () => {
    sink.rejectRecipient('gone@example.test');
    const recipients = ['a1@example.test', 'gone@example.test', 'a2@example.test', 'a3@example.test'];
    const task = await notify(recipients);
    const done = await api.waitForTask(task.id, undefined, 60_000);
    expect(done.state).toBe('SUCCESS');
    expect(done.result).toMatchObject({ total: 4, sent: 3, failed: 1 });
    expect(done.result.sentRecipients.sort()).toEqual(['a1@example.test', 'a2@example.test', 'a3@example.test']);
    expect(done.result.failedRecipients).toEqual([
      { address: 'gone@example.test', error: expect.stringMatching(/^SMTP 550: .*Mailbox does not exist/) },
    ]);

    const failed = await api.get(`/notifications/${task.id}/recipients?status=FAILED`);
    expect(failed.body.counts).toMatchObject({ SENT: 3, FAILED: 1, QUEUED: 0, SENDING: 0 });
    expect(failed.body.items).toEqual([
      expect.objectContaining({
        address: 'gone@example.test',
        status: 'FAILED',
        attempts: 1,
        error: expect.objectContaining({ responseCode: 550, permanent: true }),
      }),
    ]);
  });

  it('retries deliveries while the server answers 451, then delivers each once', async () => {
    const before = sink.accepted;
    sink.failNext('data', 3, 451, '4.3.0 Mail server busy');
    const recipients = Array.from({ length: 5 }, (_, i) => `busy${i}@example.test`);
    const task = await notify(recipients);
    const done = await api.waitForTask(task.id, undefined, 60_000);
    expect(done.result).toMatchObject({ sent: 5, failed: 0 });
    expect(sink.accepted).toBe(before + 5);
    const { items } = await allRecipients(task.id, 100);
    expect(items.every((d) => d.status === 'SENT')).toBe(true);
    expect(items.reduce((sum, d) => sum + d.attempts, 0)).toBe(5 + 3);
  });

  it('retries while the server is down and delivers everything when it comes back', async () => {
    const before = sink.accepted;
    await sink.stop();
    const recipients = Array.from({ length: 6 }, (_, i) => `outage${i}@example.test`);
    const task = await notify(recipients);
    const seen = await until(async () => {
      const page = await api.get(`/notifications/${task.id}/recipients`);
      if (page.status !== 200) throw new Error(`GET recipients gave ${page.status}: ${JSON.stringify(page.body)}`);
      return page.body.items.some((d: any) => d.attempts >= 1 && d.status === 'QUEUED') ? page.body : null;
    }, 'a delivery retrying after a failed attempt');
    expect(seen.items.find((d: any) => d.error)?.error).toMatchObject({ permanent: false });
    // While it waits, the parent's progress counts deliveries.
    const waiting = await api.get(`/tasks/${task.id}`);
    expect(waiting.body).toMatchObject({ state: 'STARTED', progress: { total: 6, sent: 0, pending: 6 } });
    await sink.restart();
    const done = await api.waitForTask(task.id, undefined, 60_000);
    expect(done.result).toMatchObject({ sent: 6, failed: 0 });
    expect(sink.accepted).toBe(before + 6);
  });

  it('stops unsent deliveries when the notification is cancelled', async () => {
    await sink.stop();
    const task = await notify(['c1@example.test', 'c2@example.test', 'c3@example.test']);
    await api.waitForTask(task.id, [TaskState.STARTED]);
    const cancelled = await api.post(`/tasks/${task.id}/cancel`);
    expect(cancelled.status).toBe(200);
    expect((await api.waitForTask(task.id)).state).toBe('REVOKED');
    const page = await until(async () => {
      const response = await api.get(`/notifications/${task.id}/recipients`);
      if (response.status !== 200)
        throw new Error(`GET recipients gave ${response.status}: ${JSON.stringify(response.body)}`);
      return response.body.counts.FAILED === 3 ? response.body : null;
    }, 'every delivery FAILED after the cancel');
    expect(page.counts).toMatchObject({ FAILED: 3, SENT: 0 });
    expect(page.items[0].error.message).toMatch(/cancelled/);
    await sink.restart();
  });

  it('validates notifications at submit', async () => {
    const bad = await api.post('/notifications', {
      recipients: ['ok@example.test', 'nope'],
      subject: 'x',
      template: 'export-ready',
      context: { fileName: 'a.zip' },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.errors.map((e: { field: string }) => e.field).sort()).toEqual(['context', 'recipients']);
    expect((await api.get('/notifications/00000000-0000-4000-8000-000000000000/recipients')).status).toBe(404);
  });
});

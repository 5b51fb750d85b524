import { ApiClient } from './support/api-client';
import { SmtpSink } from './support/smtp-sink';
import { startTestService, TestService } from './support/test-service';
import { TaskState } from '../src/tasks/task-state';

const attachment = Buffer.from('id,name\n1,Ann\n2,李雷\n');

/** `tasks.email.send_email` over real SMTP with STARTTLS and AUTH (npm smtp-server in-process). */
describe('E-mail over SMTP: POST /emails', () => {
  let sink: SmtpSink;
  let svc: TestService;
  let api: ApiClient;

  beforeAll(async () => {
    sink = await SmtpSink.start({ auth: { user: 'mailer', pass: 's3cret pass' }, starttls: true });
    svc = await startTestService({
      SMTP_URL: sink.url,
      MAIL_FROM: 'Task Service <tasks@example.test>',
      SMTP_POOL_SIZE: '2',
    });
    api = await svc.newClient();
  });
  afterAll(async () => {
    await svc?.stop();
    await sink?.stop();
  });

  const send = async (body: Record<string, unknown>) => {
    const response = await api.post('/emails', body);
    if (response.status !== 202)
      throw new Error(`POST /emails gave ${response.status}: ${JSON.stringify(response.body)}`);
    return response.body;
  };

  it('delivers a message with headers, text and HTML parts and an attachment, and records it', async () => {
    const before = sink.messages.length;
    const task = await send({
      to: ['Ann@Example.test'],
      cc: ['bob@example.test'],
      bcc: ['audit@example.test'],
      subject: 'Quarterly report — 季度报告',
      text: 'Plain body',
      html: '<p>HTML <b>body</b></p>',
      attachments: [{ filename: 'report.csv', contentType: 'text/csv', content: attachment.toString('base64') }],
      headers: { 'X-Report-Id': 'r-42' },
    });
    expect(task).toMatchObject({
      name: 'tasks.email.send_email',
      queue: 'email_tasks',
      links: { email: `/emails/${task.id}` },
    });
    const queued = await api.get(`/emails/${task.id}`);
    expect(queued.status).toBe(200);
    expect(['QUEUED', 'SENDING', 'SENT']).toContain(queued.body.status);

    const done = await api.waitForTask(task.id);
    expect(done).toMatchObject({ state: 'SUCCESS', attempts: 1, result: { status: 'SENT', alreadySent: false } });
    expect(sink.messages).toHaveLength(before + 1);
    const received = sink.messages[before];
    expect(received).toMatchObject({ from: 'tasks@example.test', secure: true, user: 'mailer' });
    expect(received.to.map((a) => a.toLowerCase()).sort()).toEqual([
      'ann@example.test',
      'audit@example.test',
      'bob@example.test',
    ]);

    const mail = await sink.parse(received);
    expect(mail.subject).toBe('Quarterly report — 季度报告');
    expect(mail.from?.value).toEqual([{ name: 'Task Service', address: 'tasks@example.test' }]);
    expect(mail.to && !Array.isArray(mail.to) && mail.to.value.map((a) => a.address?.toLowerCase())).toEqual([
      'ann@example.test',
    ]);
    expect(mail.cc && !Array.isArray(mail.cc) && mail.cc.value.map((a) => a.address)).toEqual(['bob@example.test']);
    expect(mail.bcc).toBeUndefined();
    expect(mail.headers.get('x-report-id')).toBe('r-42');
    expect(mail.messageId).toBe(`<${task.id}@example.test>`);
    expect(mail.text?.trim()).toBe('Plain body');
    expect(mail.html).toContain('<p>HTML <b>body</b></p>');
    expect(mail.attachments).toHaveLength(1);
    expect(mail.attachments[0]).toMatchObject({ filename: 'report.csv', contentType: 'text/csv' });
    expect(mail.attachments[0].content.equals(attachment)).toBe(true);

    const record = (await api.get(`/emails/${task.id}`)).body;
    expect(record).toMatchObject({
      status: 'SENT',
      attempts: 1,
      messageId: `<${task.id}@example.test>`,
      to: ['Ann@Example.test'],
      subject: 'Quarterly report — 季度报告',
      error: null,
    });
    expect(record.smtpResponse).toMatch(/^250 .*queued as sink-/);
    expect(record.sentAt).toBeTruthy();
    // Another client cannot see it.
    expect((await (await svc.newClient()).get(`/emails/${task.id}`)).status).toBe(404);
  });

  it('renders a template with HTML and plain-text parts in the requested locale', async () => {
    const before = sink.messages.length;
    const task = await send({
      to: ['li@example.test'],
      subject: '导出完成',
      template: 'export-ready',
      locale: 'zh-CN',
      context: { fileName: 'q3.zip', downloadUrl: 'https://files.example.test/d/q3', recipientName: '李雷' },
    });
    expect((await api.waitForTask(task.id)).state).toBe('SUCCESS');
    const mail = await sink.parse(sink.messages[before]);
    expect(mail.html).toContain('<a href="https://files.example.test/d/q3"');
    expect(mail.html).toContain('李雷，您好');
    expect(mail.text).toContain('您的导出文件已就绪');
    expect(mail.text).toContain('https://files.example.test/d/q3');
    expect((await api.get(`/emails/${task.id}`)).body).toMatchObject({
      template: 'export-ready',
      locale: 'zh-CN',
      status: 'SENT',
    });
  });

  it('rejects header injection, bad addresses, unknown templates and bad contexts with 400 naming the field', async () => {
    const base = { to: ['a@example.test'], subject: 'Hi', text: 'x' };
    const cases: [Record<string, unknown>, string][] = [
      [{ ...base, subject: 'Hi\r\nBcc: victim@example.test' }, 'subject'],
      [{ ...base, to: ['a@example.test\r\nBcc: victim@example.test'] }, 'to'],
      [{ ...base, cc: ['not-an-address'] }, 'cc'],
      [{ ...base, headers: { 'X-Tag': 'ok\nBcc: victim@example.test' } }, 'headers'],
      [{ ...base, headers: { Bcc: 'victim@example.test' } }, 'headers'],
      [{ ...base, attachments: [{ filename: 'a\r\n.txt', content: 'aGk=' }] }, 'attachments.0.filename'],
      [{ to: ['a@example.test'], subject: 'Hi', template: 'no-such-template', context: {} }, 'template'],
      [
        { to: ['a@example.test'], subject: 'Hi', template: 'notification', context: { title: 'only a title' } },
        'context',
      ],
      [{ to: ['a@example.test'], subject: 'Hi' }, 'template'],
      [
        {
          ...base,
          attachments: [{ filename: 'big.bin', content: Buffer.alloc(3 * 1024 * 1024 + 1).toString('base64') }],
        },
        'attachments',
      ],
    ];
    for (const [body, field] of cases) {
      const response = await api.post('/emails', body);
      expect({ field, status: response.status }).toEqual({ field, status: 400 });
      expect(response.body.errors.map((e: { field: string }) => e.field)).toContain(field);
    }
    const injected = await api.post('/notifications', {
      recipients: ['a@example.test'],
      subject: 'x\ny',
      template: 'notification',
      context: { title: 't', body: 'b' },
    });
    expect(injected.status).toBe(400);
    expect(injected.body.message).toContain('subject must not contain CR or LF characters (header injection)');
    // The generic endpoint applies the same rules.
    expect(
      (await api.post('/tasks', { name: 'tasks.email.send_email', args: { ...base, subject: 'a\rb' } })).status,
    ).toBe(400);
  });

  it('retries while the server answers 451, then delivers exactly once', async () => {
    const before = sink.accepted;
    sink.failNext('mail', 2, 451, '4.7.1 Greylisted, try again later');
    const task = await send({ to: ['grey@example.test'], subject: 'Greylisted', text: 'eventually' });
    const done = await api.waitForTask(task.id, undefined, 60_000);
    expect(done).toMatchObject({ state: 'SUCCESS', attempts: 3 });
    expect(sink.accepted).toBe(before + 1);
    expect((await api.get(`/emails/${task.id}`)).body).toMatchObject({ status: 'SENT', attempts: 3, error: null });
  });

  it('fails at once, without retry, when the server answers 550, and keeps the reply', async () => {
    sink.rejectRecipient('nobody@example.test');
    const task = await send({ to: ['nobody@example.test'], subject: 'Bounce', text: 'x' });
    const done = await api.waitForTask(task.id);
    expect(done).toMatchObject({ state: 'FAILURE', attempts: 1 });
    expect(done.error.message).toMatch(/550.*Mailbox does not exist/);
    const record = (await api.get(`/emails/${task.id}`)).body;
    expect(record).toMatchObject({ status: 'FAILED', attempts: 1, error: { responseCode: 550, permanent: true } });
  });

  it('retries while the server is down and delivers when it comes back', async () => {
    const before = sink.accepted;
    await sink.stop();
    const task = await send({ to: ['later@example.test'], subject: 'Outage', text: 'x' });
    const retrying = await api.waitForTask(task.id, [TaskState.RETRY], 30_000);
    expect(retrying.error.message).toMatch(/ECONN|ESOCKET|connect/i);
    expect((await api.get(`/emails/${task.id}`)).body).toMatchObject({ status: 'QUEUED', error: { permanent: false } });
    await sink.restart();
    const done = await api.waitForTask(task.id, undefined, 60_000);
    expect(done.state).toBe('SUCCESS');
    expect(done.attempts).toBeGreaterThan(1);
    expect(sink.accepted).toBe(before + 1);
  });
});

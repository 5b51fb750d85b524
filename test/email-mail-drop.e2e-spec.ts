import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import { Client } from 'pg';
import { ApiClient } from './support/api-client';
import { startTestService, TestService } from './support/test-service';

/**
 * Without SMTP_URL, messages become .eml files under ${DATA_DIR}/outbox: nothing is sent, nothing
 * is dropped. This service also runs ONE e-mail job at a time, so a notification's children can
 * never get a worker slot while it waits: it must send its deliveries itself.
 */
describe('E-mail embedded default: the .eml mail drop', () => {
  let svc: TestService;
  let api: ApiClient;
  let mailDrop: string;

  beforeAll(async () => {
    svc = await startTestService({
      SMTP_URL: undefined,
      DATA_DIR: `/tmp/task-service-e2e/${process.env.TEST_RUN_ID}-mail-drop`,
      QUEUE_CONCURRENCY: 'email_tasks=1',
      EMAIL_ASSIST_AFTER_MS: '300',
      EMAIL_POLL_MS: '100',
    });
    mailDrop = join(svc.env.DATA_DIR!, 'outbox');
    api = svc.admin;
  });
  afterAll(() => svc?.stop());

  const fileFor = (taskId: string) => {
    const name = existsSync(mailDrop) ? readdirSync(mailDrop).find((f) => f.includes(taskId)) : undefined;
    if (!name) throw new Error(`No .eml for ${taskId} in ${mailDrop}`);
    return join(mailDrop, name);
  };

  it('writes a message as an .eml file that parses back to the same message', async () => {
    const attachment = Buffer.from('%PDF-1.4 not really a pdf');
    const response = await api.post('/emails', {
      to: ['reader@example.test'],
      bcc: ['archive@example.test'],
      subject: 'Preview me 预览',
      text: 'Text part',
      html: '<p>HTML part</p>',
      attachments: [{ filename: 'doc.pdf', contentType: 'application/pdf', content: attachment.toString('base64') }],
      headers: { 'X-Campaign': 'spring' },
    });
    expect(response.status).toBe(202);
    const done = await api.waitForTask(response.body.id);
    expect(done.state).toBe('SUCCESS');

    const path = fileFor(response.body.id);
    expect(path.endsWith('.eml')).toBe(true);
    const mail = await simpleParser(readFileSync(path));
    expect(mail.subject).toBe('Preview me 预览');
    expect(mail.messageId).toBe(`<${response.body.id}@localhost>`);
    expect(mail.from?.value).toEqual([{ name: 'Task Service', address: 'no-reply@localhost' }]);
    expect(mail.to && !Array.isArray(mail.to) && mail.to.text).toBe('reader@example.test');
    expect(mail.bcc && !Array.isArray(mail.bcc) && mail.bcc.text).toBe('archive@example.test');
    expect(mail.headers.get('x-campaign')).toBe('spring');
    expect(mail.text?.trim()).toBe('Text part');
    expect(mail.html).toContain('<p>HTML part</p>');
    expect(mail.attachments[0].content.equals(attachment)).toBe(true);

    const record = (await api.get(`/emails/${response.body.id}`)).body;
    expect(record.status).toBe('SENT');
    expect(record.smtpResponse).toContain(`Written to ${path}`);
  });

  it('writes every delivery of a notification, also when its children never get a worker slot', async () => {
    const response = await api.post('/notifications', {
      recipients: ['one@example.test', 'two@example.test', 'ONE@example.test'],
      subject: '导出完成',
      template: 'export-ready',
      locale: 'zh-CN',
      context: { fileName: 'q3.zip', downloadUrl: 'https://files.example.test/q3' },
    });
    expect(response.status).toBe(202);
    const done = await api.waitForTask(response.body.id, undefined, 60_000);
    expect(done.result).toMatchObject({ total: 2, sent: 2, failed: 0 });
    const files = readdirSync(mailDrop)
      .map((f) => readFileSync(join(mailDrop, f)))
      .filter((raw) => raw.includes(response.body.id));
    expect(files).toHaveLength(2);
    const mails = await Promise.all(files.map((raw) => simpleParser(raw)));
    expect(mails.map((m) => (m.to && !Array.isArray(m.to) ? m.to.text : '')).sort()).toEqual([
      'one@example.test',
      'two@example.test',
    ]);
    expect(mails[0].text).toContain('您的导出文件已就绪');
    expect(mails[0].html).toContain('https://files.example.test/q3');

    // The only e-mail slot was the parent's: it sent the deliveries itself, the child found nothing left.
    const db = new Client({ connectionString: process.env.TEST_DATABASE_URL });
    await db.connect();
    try {
      let children: { state: string; result: { sent: number } | null }[] = [];
      for (const deadline = Date.now() + 10_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 100))) {
        children = (await db.query(`SELECT state, result FROM task_runs WHERE parent_id = $1`, [response.body.id]))
          .rows;
        if (children.length > 0 && children.every((c) => c.state === 'SUCCESS')) break;
      }
      expect(children).toEqual([{ state: 'SUCCESS', result: { batch: 0, sent: 0, failed: 0, deferred: 0 } }]);
    } finally {
      await db.end();
    }
  });
});

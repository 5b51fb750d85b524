import { randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { uploadBytes } from './file-export-helpers';
import { ApiClient } from './support/api-client';
import { waitUntil } from './support/processes';
import { SmtpSink } from './support/smtp-sink';
import { startTestService, TestService } from './support/test-service';

/** `send_email` with attachments by file id: owner-checked at submit, streamed from storage to a real SMTP server. */
describe('E-mail: attachments by file id', () => {
  let sink: SmtpSink;
  let svc: TestService;
  let api: ApiClient;
  let other: ApiClient;

  beforeAll(async () => {
    sink = await SmtpSink.start();
    svc = await startTestService({
      SMTP_URL: sink.url,
      MAIL_FROM: 'Task Service <tasks@example.test>',
      STORAGE_DIR: await mkdtemp(join(tmpdir(), 'email-attachments-')),
    });
    api = await svc.newClient('attach-owner');
    other = await svc.newClient('attach-other');
  });
  afterAll(async () => {
    await svc?.stop();
    await sink?.stop();
  });

  it('sends a stored file (binary, 1 MB) next to an inline one; both arrive intact', async () => {
    const bytes = randomBytes(1024 * 1024);
    const file = await uploadBytes(api, '年度报告.bin', bytes);
    const inline = Buffer.from('id,name\n1,Ann\n');
    const before = sink.messages.length;
    const response = await api.post('/emails', {
      to: ['ann@example.test'],
      subject: 'Your export',
      text: 'Attached.',
      attachments: [
        { fileId: file.id },
        { filename: 'list.csv', contentType: 'text/csv', content: inline.toString('base64') },
      ],
    });
    expect(response.status).toBe(202);
    expect((await api.waitForTask(response.body.id)).state).toBe('SUCCESS');
    await waitUntil(async () => sink.messages.length > before, 10_000);
    const mail = await sink.parse(sink.messages[sink.messages.length - 1]);
    expect(mail.attachments.map((a) => a.filename)).toEqual(['年度报告.bin', 'list.csv']);
    expect(mail.attachments[0].content.equals(bytes)).toBe(true);
    expect(mail.attachments[1].content.equals(inline)).toBe(true);
  });

  it("refuses another key's file (or a missing one) with 400 naming the attachment, at submission", async () => {
    const theirs = await uploadBytes(other, 'theirs.txt', Buffer.from('private'));
    for (const fileId of [theirs.id, '00000000-0000-4000-8000-000000000002']) {
      const response = await api.post('/emails', {
        to: ['ann@example.test'],
        subject: 'x',
        text: 'x',
        attachments: [{ filename: 'a.txt', content: 'aGk=' }, { fileId }],
      });
      expect(response.status).toBe(400);
      expect(response.body.errors).toEqual([
        { field: 'attachments.1.fileId', rule: 'ownFile', message: `File ${fileId} not found` },
      ]);
    }
  });

  it('fails the task when the generic POST /tasks names another key’s file', async () => {
    const theirs = await uploadBytes(other, 'theirs-2.txt', Buffer.from('private'));
    const task = await api.submit('tasks.email.send_email', {
      to: ['ann@example.test'],
      subject: 'x',
      text: 'x',
      attachments: [{ fileId: theirs.id }],
    });
    const done = await api.waitForTask(task.id);
    expect([done.state, done.error.message]).toEqual(['FAILURE', `File ${theirs.id} not found`]);
  });

  it('counts stored files in the one attachment cap, and refuses fileId with content', async () => {
    const big = await uploadBytes(api, 'big.bin', randomBytes(3 * 1024 * 1024 + 1));
    const tooBig = await api.post('/emails', {
      to: ['a@example.test'],
      subject: 'x',
      text: 'x',
      attachments: [{ fileId: big.id }],
    });
    expect(tooBig.status).toBe(400);
    expect(tooBig.body.errors[0]).toMatchObject({ field: 'attachments', rule: 'attachmentsWithinLimit' });
    const both = await api.post('/emails', {
      to: ['a@example.test'],
      subject: 'x',
      text: 'x',
      attachments: [{ fileId: big.id, content: 'aGk=' }],
    });
    expect(both.status).toBe(400);
    expect(both.body.errors.map((e: { field: string }) => e.field)).toContain('attachments.0.fileId');
  });
});

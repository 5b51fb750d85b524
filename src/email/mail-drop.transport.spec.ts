import { simpleParser } from 'mailparser';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTransport } from 'nodemailer';
import { describeSmtpUrl } from './mailer-options';
import { MailDropTransport } from './mail-drop.transport';

describe('MailDropTransport', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mail-drop-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes the message as an .eml file (Bcc kept) and reports where', async () => {
    const sut = createTransport(new MailDropTransport(join(dir, 'mail-drop')));
    const info = await sut.sendMail({
      from: 'a@example.test',
      to: 'b@example.test',
      bcc: 'c@example.test',
      subject: 'Hi 你好',
      text: 'text',
      html: '<p>html</p>',
      messageId: '<m1@example.test>',
    });
    const [file] = readdirSync(join(dir, 'mail-drop'));
    expect(file).toMatch(/-m1@example\.test\.eml$/);
    expect(info.response).toBe(`250 Written to ${join(dir, 'mail-drop', file)} (not sent: no SMTP_URL)`);
    expect(info.accepted).toEqual(['b@example.test', 'c@example.test']);
    const mail = await simpleParser(readFileSync(join(dir, 'mail-drop', file)));
    expect(mail).toMatchObject({
      subject: 'Hi 你好',
      messageId: '<m1@example.test>',
      text: 'text',
      html: '<p>html</p>',
    });
    expect(mail.bcc && !Array.isArray(mail.bcc) && mail.bcc.text).toBe('c@example.test');
  });
});

describe('describeSmtpUrl', () => {
  it('masks the password', () => {
    expect(describeSmtpUrl('smtp://user:secret@mail.example.test:587/?requireTLS=true')).toBe(
      'smtp://user:***@mail.example.test:587/?requireTLS=true',
    );
  });
});

import { simpleParser } from 'mailparser';
import { createTransport } from 'nodemailer';
import { encodedPart } from './encoded-part';

describe('encodedPart', () => {
  it('wraps base64 at 76 characters', () => {
    const sut = encodedPart('text/plain', 'x'.repeat(200));
    const body = sut.raw.split('\r\n\r\n')[1];
    expect(body.split('\r\n').every((line) => line.length <= 76)).toBe(true);
    expect(Buffer.from(body.replace(/\r\n/g, ''), 'base64').toString()).toBe('x'.repeat(200));
  });

  it('parses back as the text and HTML of a message', async () => {
    const transport = createTransport({ streamTransport: true, buffer: true });
    const html = '<p>您好 — <a href="https://example.test/?a=1&b=2">open</a></p>';
    const info = await transport.sendMail({
      from: 'a@example.test',
      to: 'b@example.test',
      subject: 's',
      text: encodedPart('text/plain', '您好\nline two\n'),
      html: encodedPart('text/html', html),
    });
    const mail = await simpleParser(info.message as Buffer);
    expect(mail.text).toBe('您好\nline two\n');
    expect(mail.html).toBe(html);
  });
});

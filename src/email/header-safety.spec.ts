import { validateSync } from 'class-validator';
import { plainToInstance } from 'class-transformer';
import { SendEmailArgs, SendNotificationArgs } from './email.tasks';
import { EmailLimits } from './email.limits';
import { base64Bytes, hasLineBreak, headersProblem } from './header-safety';

const valid = { to: ['a@example.com'], subject: 'Hello', text: 'Body' };
const problems = (raw: object, cls: new () => object = SendEmailArgs) =>
  validateSync(plainToInstance(cls, raw), { whitelist: true, forbidNonWhitelisted: true }).flatMap((e) => [
    ...Object.values(e.constraints ?? {}),
    ...(e.children ?? []).flatMap((c) => (c.children ?? []).flatMap((g) => Object.values(g.constraints ?? {}))),
  ]);

describe('header injection and size rules', () => {
  it('accepts a plain message, with one address as a string too', () => {
    expect(problems(valid)).toEqual([]);
    expect(problems({ ...valid, to: 'a@example.test', cc: 'b@example.test' })).toEqual([]);
    expect(plainToInstance(SendEmailArgs, { ...valid, to: 'a@example.test' }).to).toEqual(['a@example.test']);
  });

  it('rejects CR or LF in the subject, addresses and attachment names', () => {
    expect(problems({ ...valid, subject: 'Hi\r\nBcc: victim@example.com' })).toContain(
      'subject must not contain CR or LF characters (header injection)',
    );
    expect(problems({ ...valid, to: ['a@example.com\nBcc: b@example.com'] })).toContain(
      'to must not contain CR or LF characters (header injection)',
    );
    expect(problems({ ...valid, cc: ['a@example.com\r'] })).toContain(
      'cc must not contain CR or LF characters (header injection)',
    );
    expect(problems({ ...valid, attachments: [{ filename: 'a\r\n.txt', content: 'aGk=' }] })).toContain(
      'filename must not contain CR or LF characters (header injection)',
    );
    expect(
      problems(
        {
          recipients: ['x@example.com'],
          subject: 'a\nb',
          template: 'notification',
          context: { title: 't', body: 'b' },
        },
        SendNotificationArgs,
      ),
    ).toContain('subject must not contain CR or LF characters (header injection)');
  });

  it('rejects header names and values that could inject or override headers', () => {
    expect(headersProblem({ 'X-Ok': 'fine' })).toBeNull();
    expect(headersProblem({ 'X-Tag': 'a\r\nBcc: b@example.com' })).toBe(
      'headers.X-Tag must not contain CR or LF characters (header injection)',
    );
    expect(headersProblem({ 'X-Tag\r\nBcc': 'b' })).toMatch(/not a valid header name/);
    expect(headersProblem({ Bcc: 'b@example.com' })).toBe('headers.Bcc is set by the service and cannot be given');
    expect(headersProblem({ 'X-N': 5 })).toBe('headers.X-N must be a string');
    expect(problems({ ...valid, headers: { 'X-Tag': 'a\nb' } })).toContain(
      'headers.X-Tag must not contain CR or LF characters (header injection)',
    );
  });

  it('requires a body or a template, and not both', () => {
    expect(problems({ to: ['a@example.com'], subject: 's' })).toEqual([
      expect.stringContaining('template must be one of'),
    ]);
    expect(problems({ ...valid, template: 'notification', context: { title: 't', body: 'b' } })).toContain(
      'text cannot be given together with template',
    );
    expect(problems({ ...valid, text: undefined, template: 'nope', context: {} })).toEqual([
      expect.stringContaining('template must be one of'),
    ]);
    expect(problems({ ...valid, text: undefined, template: 'notification', context: { title: 't' } })).toEqual([
      'context.body is required by template notification',
    ]);
  });

  it('caps attachments by decoded size', () => {
    const big = Buffer.alloc(EmailLimits.ATTACHMENT_BYTES + 1).toString('base64');
    expect(base64Bytes(big)).toBe(EmailLimits.ATTACHMENT_BYTES + 1);
    expect(problems({ ...valid, attachments: [{ filename: 'a.bin', content: big }] })).toContain(
      `attachments may hold at most ${EmailLimits.ATTACHMENT_BYTES} bytes in total (decoded)`,
    );
    expect(
      problems({
        ...valid,
        attachments: [{ filename: 'a.bin', content: Buffer.alloc(EmailLimits.ATTACHMENT_BYTES).toString('base64') }],
      }),
    ).toEqual([]);
  });

  it('detects line breaks in nested arrays', () => {
    expect(hasLineBreak(['a', ['b\n']])).toBe(true);
    expect(hasLineBreak(42)).toBe(false);
  });
});

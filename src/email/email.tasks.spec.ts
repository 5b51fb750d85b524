import { validatePayload } from '../common/field-errors';
import { DeliverArgs, SendEmailArgs, SendNotificationArgs } from './email.tasks';
import { EmailLimits } from './email.limits';

/** The payload rules as the platform applies them at submit: `validatePayload`, whitelist on. */
const broken = (cls: new () => object, args: unknown) =>
  validatePayload(cls, args).errors.map(({ field, message }) => ({ field, message }));
const fields = (cls: new () => object, args: unknown) => [...new Set(broken(cls, args).map((e) => e.field))].sort();

const TEXT_MAIL = { to: ['ann@example.com'], subject: 'Hello', text: 'Hi Ann' };
const TEMPLATE_MAIL = {
  to: ['ann@example.com'],
  subject: 'Hello',
  template: 'notification',
  context: { title: 'Hi', body: 'Welcome' },
};
const attachment = (bytes: number, extra: object = {}) => ({
  filename: 'report.csv',
  content: Buffer.alloc(bytes, 1).toString('base64'),
  ...extra,
});

describe('tasks.email.send_email payload', () => {
  it('accepts a plain-text message, and a templated one', () => {
    expect(broken(SendEmailArgs, TEXT_MAIL)).toEqual([]);
    expect(broken(SendEmailArgs, { ...TEMPLATE_MAIL, locale: 'zh-CN' })).toEqual([]);
  });

  it('takes one address given as a string as a list of one (as the old callers sent it)', () => {
    const { value, errors } = validatePayload(SendEmailArgs, { ...TEXT_MAIL, to: 'ann@example.com' });
    expect(errors).toEqual([]);
    expect(value.to).toEqual(['ann@example.com']);
  });

  it('needs at least one recipient and at most 50 per field, each an e-mail address', () => {
    expect(fields(SendEmailArgs, { ...TEXT_MAIL, to: [] })).toEqual(['args.to']);
    const many = Array.from({ length: EmailLimits.RECIPIENTS_PER_MESSAGE + 1 }, (_, i) => `u${i}@example.com`);
    expect(fields(SendEmailArgs, { ...TEXT_MAIL, cc: many })).toEqual(['args.cc']);
    expect(broken(SendEmailArgs, { ...TEXT_MAIL, bcc: ['ann@example.com', 'not an address'] })).toEqual([
      { field: 'args.bcc', message: expect.stringContaining('bcc must be an e-mail address') },
    ]);
  });

  it('refuses line breaks in addresses and the subject (header injection)', () => {
    expect(fields(SendEmailArgs, { ...TEXT_MAIL, to: ['ann@example.com\r\nBcc: eve@example.com'] })).toContain(
      'args.to',
    );
    expect(broken(SendEmailArgs, { ...TEXT_MAIL, subject: 'Hi\nBcc: eve@example.com' })).toEqual([
      { field: 'args.subject', message: 'args.subject must not contain CR or LF characters (header injection)' },
    ]);
  });

  it('needs a body: text, html or a template, and a template excludes text and html', () => {
    expect(broken(SendEmailArgs, { to: ['ann@example.com'], subject: 'Hello' })).toEqual([
      {
        field: 'args.template',
        message: 'args.template must be one of notification, export-ready (or give text and/or html)',
      },
    ]);
    expect(broken(SendEmailArgs, { ...TEMPLATE_MAIL, html: '<p>Hi</p>' })).toEqual([
      { field: 'args.html', message: 'args.html cannot be given together with template' },
    ]);
    expect(fields(SendEmailArgs, { ...TEMPLATE_MAIL, template: 'toString' })).toEqual(['args.template']);
  });

  it("checks a template's context against what the template takes", () => {
    const problems = broken(SendEmailArgs, {
      ...TEMPLATE_MAIL,
      context: { title: 'Hi', actionUrl: 'javascript:alert(1)', colour: 'red' },
    });
    expect(problems.map((p) => p.field)).toEqual(['args.context']);
    expect(problems[0].message).toContain('context.body is required by template notification');
    expect(problems[0].message).toContain('context.actionUrl must be an http(s) URL');
    expect(problems[0].message).toContain('context.colour is not used by template notification');
  });

  it('names the attachment and field that break a rule', () => {
    expect(
      broken(SendEmailArgs, {
        ...TEXT_MAIL,
        attachments: [attachment(3), attachment(3, { filename: '../etc/passwd', content: 'not base64!' })],
      }),
    ).toEqual([
      {
        field: 'args.attachments.1.filename',
        message: 'args.attachments.1.filename must not contain a path separator',
      },
      { field: 'args.attachments.1.content', message: 'args.attachments.1.content must be base64 encoded' },
    ]);
    expect(fields(SendEmailArgs, { ...TEXT_MAIL, attachments: [attachment(3, { contentType: 'csv' })] })).toEqual([
      'args.attachments.0.contentType',
    ]);
  });

  it("takes an attachment as inline content or as one of the caller's files by id, never both", () => {
    const fileId = '3f1c2b8e-9d4a-4c1e-8f2a-1b2c3d4e5f60';
    expect(broken(SendEmailArgs, { ...TEXT_MAIL, attachments: [{ fileId }] })).toEqual([]);
    expect(broken(SendEmailArgs, { ...TEXT_MAIL, attachments: [{ ...attachment(3), fileId }] })).toEqual([
      {
        field: 'args.attachments.0.fileId',
        message: 'args.attachments.0.fileId cannot be given together with content',
      },
    ]);
    expect(fields(SendEmailArgs, { ...TEXT_MAIL, attachments: [{ fileId: 'report.pdf' }] })).toEqual([
      'args.attachments.0.fileId',
    ]);
    expect(fields(SendEmailArgs, { ...TEXT_MAIL, attachments: [{}] })).toEqual([
      'args.attachments.0.content',
      'args.attachments.0.filename',
    ]);
  });

  it('caps attachments at 10 and 3 MB decoded in all', () => {
    const half = EmailLimits.ATTACHMENT_BYTES / 2;
    expect(broken(SendEmailArgs, { ...TEXT_MAIL, attachments: [attachment(half), attachment(half)] })).toEqual([]);
    expect(broken(SendEmailArgs, { ...TEXT_MAIL, attachments: [attachment(half), attachment(half + 1)] })).toEqual([
      {
        field: 'args.attachments',
        message: `args.attachments may hold at most ${EmailLimits.ATTACHMENT_BYTES} bytes in total (decoded)`,
      },
    ]);
    const eleven = Array.from({ length: EmailLimits.ATTACHMENTS + 1 }, () => attachment(1));
    expect(fields(SendEmailArgs, { ...TEXT_MAIL, attachments: eleven })).toEqual(['args.attachments']);
  });

  it('accepts extra headers but never ones the service sets, nor line breaks in them', () => {
    expect(broken(SendEmailArgs, { ...TEXT_MAIL, headers: { 'X-Report-Id': 'r-42' } })).toEqual([]);
    expect(broken(SendEmailArgs, { ...TEXT_MAIL, headers: { Bcc: 'eve@example.com' } })).toEqual([
      { field: 'args.headers', message: 'args.headers.Bcc is set by the service and cannot be given' },
    ]);
    expect(broken(SendEmailArgs, { ...TEXT_MAIL, headers: { 'X-Id': 'a\r\nBcc: eve@example.com' } })).toEqual([
      { field: 'args.headers', message: 'args.headers.X-Id must not contain CR or LF characters (header injection)' },
    ]);
  });

  it('refuses fields it does not know', () => {
    expect(broken(SendEmailArgs, { ...TEXT_MAIL, replyTo: 'eve@example.com' })).toEqual([
      { field: 'args.replyTo', message: 'args.replyTo is not an accepted property' },
    ]);
  });
});

describe('tasks.email.send_notification payload', () => {
  const NOTIFICATION = {
    recipients: ['ann@example.com', 'bob@example.com'],
    subject: 'Maintenance',
    template: 'notification',
    context: { title: 'Maintenance', body: 'Tonight' },
  };

  it('accepts a templated notification to many recipients', () => {
    expect(broken(SendNotificationArgs, NOTIFICATION)).toEqual([]);
  });

  it('always needs a template and its context (a notification has no free text)', () => {
    const { template: _t, context: _c, ...bare } = NOTIFICATION;
    expect(fields(SendNotificationArgs, { ...bare, text: 'Hi' })).toEqual([
      'args.context',
      'args.template',
      'args.text',
    ]);
  });

  it('needs 1 to 20,000 recipients, each an e-mail address', () => {
    expect(fields(SendNotificationArgs, { ...NOTIFICATION, recipients: [] })).toEqual(['args.recipients']);
    expect(fields(SendNotificationArgs, { ...NOTIFICATION, recipients: ['ann@example.com', 'nope'] })).toEqual([
      'args.recipients',
    ]);
    const crowd = Array.from({ length: EmailLimits.NOTIFICATION_RECIPIENTS + 1 }, (_, i) => `u${i}@example.com`);
    expect(fields(SendNotificationArgs, { ...NOTIFICATION, recipients: crowd })).toEqual(['args.recipients']);
  });

  it('knows only the locales it has templates for', () => {
    expect(fields(SendNotificationArgs, { ...NOTIFICATION, locale: 'fr' })).toEqual(['args.locale']);
  });
});

describe('tasks.email.deliver payload', () => {
  it('names a notification by id and a batch by its number from 0', () => {
    expect(broken(DeliverArgs, { notificationId: '3f1c2b8e-9d4a-4c1e-8f2a-1b2c3d4e5f60', batch: 0 })).toEqual([]);
    expect(fields(DeliverArgs, { notificationId: 'n-1', batch: -1 })).toEqual(['args.batch', 'args.notificationId']);
    expect(fields(DeliverArgs, { notificationId: '3f1c2b8e-9d4a-4c1e-8f2a-1b2c3d4e5f60', batch: 1.5 })).toEqual([
      'args.batch',
    ]);
  });
});

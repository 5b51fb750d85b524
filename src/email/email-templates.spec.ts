import { EMAIL_LOCALES } from './email.environment';
import { TEMPLATE_CATALOG, templateContextProblems } from './email-template.catalog';
import { EmailTemplates, htmlToText } from './email-templates';

const sample: Record<string, Record<string, string | number>> = {
  notification: {
    title: 'Maintenance <tonight>',
    body: 'The service pauses at 22:00.',
    recipientName: 'Ann',
    actionUrl: 'https://example.com/status',
    actionLabel: 'Status',
  },
  'export-ready': {
    fileName: 'report.zip',
    downloadUrl: 'https://example.com/d/1',
    expiresAt: '2026-12-01',
    fileCount: 3,
    sizeLabel: '2 MB',
  },
};

describe('EmailTemplates', () => {
  const sut = EmailTemplates.load();

  it.each(EMAIL_LOCALES.flatMap((locale) => Object.keys(TEMPLATE_CATALOG).map((name) => [locale, name] as const)))(
    'renders %s/%s with HTML and text parts',
    (locale, name) => {
      const { html, text } = sut.render(name, locale, sample[name]);
      expect(html).toContain('<html');
      expect(text).not.toMatch(/<(p|a|h1|html|body)[ >]/i);
      for (const value of Object.values(sample[name])) {
        if (String(value).includes('<')) continue;
        expect(text).toContain(String(value));
      }
    },
  );

  it('escapes context values in HTML but not in text', () => {
    const { html, text } = sut.render('notification', 'en', sample.notification);
    expect(html).toContain('Maintenance &lt;tonight&gt;');
    expect(text).toContain('Maintenance <tonight>');
  });

  it('renders the Chinese locale', () => {
    expect(sut.render('export-ready', 'zh-CN', sample['export-ready']).text).toContain('您的导出文件已就绪');
  });

  it('refuses to load a directory without the catalog templates', () => {
    expect(() => EmailTemplates.load('/nonexistent')).toThrow(/templates are missing/);
  });
});

describe('templateContextProblems', () => {
  it('accepts a complete context', () => {
    expect(templateContextProblems('notification', { title: 'a', body: 'b' })).toEqual([]);
  });

  it('names missing, unknown and malformed fields', () => {
    const sut = templateContextProblems('export-ready', {
      fileName: { nested: true },
      downloadUrl: 'javascript:alert(1)',
      colour: 'red',
    });
    expect(sut).toEqual([
      'context.fileName must be a string or a number',
      'context.downloadUrl must be an http(s) URL',
      expect.stringContaining('context.colour is not used by template export-ready'),
    ]);
    expect(templateContextProblems('notification', {})).toEqual([
      'context.title is required by template notification',
      'context.body is required by template notification',
    ]);
  });
});

describe('htmlToText', () => {
  it('keeps text, links and paragraphs', () => {
    expect(
      htmlToText(
        '<html><head><title>x</title></head><body><p>Hi &amp; bye</p><p><a href="https://e.com">Open</a></p></body></html>',
      ),
    ).toBe('Hi & bye\n\nOpen (https://e.com)\n');
  });
});

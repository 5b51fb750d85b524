import { parse } from 'content-disposition';
import { asciiFallback, attachmentDisposition } from './attachment-disposition';

describe('attachmentDisposition', () => {
  // RFC 8187 attr-char excludes ' ( ) *: encodeURIComponent leaves them as they are (#21).
  it.each(["it's (final) *draft*.txt", '季度报告 (1).pdf', "l'été.csv"])(
    'writes a filename* for %s that RFC 8187 accepts and that decodes back to the name',
    (name) => {
      const header = attachmentDisposition(name, 'file-1');
      const extended = header.match(/filename\*=UTF-8''([^;]*)/)?.[1];
      if (extended !== undefined) expect(extended).toMatch(/^[A-Za-z0-9!#$&+\-.^_`|~%]*$/);
      expect(parse(header)).toEqual({ type: 'attachment', parameters: expect.objectContaining({ filename: name }) });
    },
  );

  it('gives a plain ASCII name alone, quoted as needed', () => {
    expect(attachmentDisposition('report.pdf', 'file-1')).toBe('attachment; filename=report.pdf');
    expect(attachmentDisposition("it's (1).txt", 'file-1')).toBe('attachment; filename="it\'s (1).txt"');
  });

  it('names a Chinese export by its id in filename= and by its own name in filename*', () => {
    expect(attachmentDisposition('导出.zip', 'export-42')).toBe(
      "attachment; filename=export-42.zip; filename*=UTF-8''%E5%AF%BC%E5%87%BA.zip",
    );
  });
});

describe('asciiFallback', () => {
  it.each([
    ['导出.zip', 'export-7.zip'],
    ['导出 2026.zip', '2026.zip'],
    ['季度报告 Q3 总结.pdf', 'Q3.pdf'],
    ['naïve café.txt', 'naive cafe.txt'],
    ['Ｒｅｐｏｒｔ２０２６.csv', 'Report2026.csv'],
    ['résumé', 'resume'],
    ['报告', 'export-7'],
    ['报告.日本', 'export-7'],
    ['a"b\\c/d%20.txt', 'a_b_c_d_20.txt'],
    ['.env', '.env'],
  ])('turns %s into %s', (name, fallback) => {
    expect(asciiFallback(name, 'export-7')).toBe(fallback);
  });
});

import { EntryNames, isStoredType, sanitizeEntryName } from './entry-names';

describe('ZIP entry names', () => {
  it.each([
    ['../../evil', 'evil'],
    ['/etc/passwd', 'passwd'],
    ['..\\..\\win.ini', 'win.ini'],
    ['a\u0000b\u001fc\u007f.txt', 'abc.txt'],
    ['..', 'file'],
    ['', 'file'],
    ['报告.pdf', '报告.pdf'],
    ['invoice\u202Efdp.exe', 'invoicefdp.exe'],
    // Windows reserves device names with any extension; extracting `NUL.txt` there fails (#21).
    ['CON', '_CON'],
    ['nul.txt', '_nul.txt'],
    ['Aux.tar.gz', '_Aux.tar.gz'],
    ['PRN .log', '_PRN .log'],
    ['com1.csv', '_com1.csv'],
    ['LPT9', '_LPT9'],
    ['COM¹.txt', '_COM¹.txt'],
    ['CONSOLE.txt', 'CONSOLE.txt'],
    ['com10.txt', 'com10.txt'],
    ['my nul.txt', 'my nul.txt'],
    ['NUL.', '_NUL'],
    ['notes. . ', 'notes'],
    ['10:30 <draft>?.txt', '10_30 _draft__.txt'],
    ['report.txt:hidden', 'report.txt_hidden'],
  ])('sanitises %j to %j', (input, expected) => {
    expect(sanitizeEntryName(input)).toBe(expected);
  });

  it('keeps long Chinese names valid UTF-8 within 200 bytes', () => {
    const name = sanitizeEntryName(`${'很'.repeat(300)}.txt`);
    expect(Buffer.byteLength(name)).toBeLessThanOrEqual(200);
    expect(name.endsWith('.txt')).toBe(true);
    expect(Buffer.from(name).toString()).toBe(name);
  });

  it('numbers duplicates (case-insensitively) and never reuses manifest.json', () => {
    const names = new EntryNames();
    expect(
      ['report.pdf', 'report.pdf', 'Report.PDF', 'manifest.json', 'x/report.pdf'].map((n) => names.next(n)),
    ).toEqual(['report.pdf', 'report (2).pdf', 'Report (3).PDF', 'manifest (2).json', 'report (4).pdf']);
  });

  it('stores compressed formats and deflates text', () => {
    expect(isStoredType('application/pdf')).toBe(true);
    expect(isStoredType('image/png')).toBe(true);
    expect(isStoredType('application/vnd.openxmlformats-officedocument.wordprocessingml.document')).toBe(true);
    expect(isStoredType('text/plain')).toBe(false);
    expect(isStoredType('application/json')).toBe(false);
  });
});

import { sanitiseFileName } from './multipart-upload';

describe('sanitiseFileName', () => {
  it('keeps the base name only, without control or reserved characters', () => {
    expect(sanitiseFileName('../../etc/passwd')).toBe('passwd');
    expect(sanitiseFileName('C:\\Users\\me\\报告 2024.pdf')).toBe('报告 2024.pdf');
    expect(sanitiseFileName('a<b>:c"d|e?f*.txt\u0000')).toBe('abcdef.txt');
    expect(sanitiseFileName('...hidden')).toBe('hidden');
  });

  it('falls back to a name and caps the length at 255 characters', () => {
    expect(sanitiseFileName('')).toBe('unnamed');
    expect(sanitiseFileName(undefined)).toBe('unnamed');
    expect([...sanitiseFileName('文'.repeat(400))]).toHaveLength(255);
  });
});

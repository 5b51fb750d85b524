import { MIME, sniff } from './mime-sniffer';

describe('sniff', () => {
  it('recognises binary formats by magic bytes, whatever the name says', () => {
    expect(sniff(Buffer.from('%PDF-1.4\n...'), 'x.txt').mime).toBe(MIME.PDF);
    expect(sniff(Buffer.from('PK\u0003\u0004....word/document.xml', 'latin1'), 'x.pdf').mime).toBe(MIME.DOCX);
    expect(sniff(Buffer.from('PK\u0003\u0004....other.bin', 'latin1'), 'x.docx').mime).toBe(MIME.ZIP);
    expect(sniff(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 1]), 'x.txt').mime).toBe(MIME.BINARY);
  });

  it('tells text kinds apart by content', () => {
    expect(sniff(Buffer.from('{"a": [1, 2]}'), 'data.pdf')).toEqual({ mime: MIME.JSON, encoding: 'utf-8' });
    expect(sniff(Buffer.from('<!DOCTYPE html><html><body>Hi</body></html>')).mime).toBe(MIME.HTML);
    expect(sniff(Buffer.from('name,age\nAda,36\nAlan,41\n')).mime).toBe(MIME.CSV);
    expect(sniff(Buffer.from('# Title\n\nSome *text* and a [link](http://x).')).mime).toBe(MIME.MARKDOWN);
    expect(sniff(Buffer.from('Just a sentence, nothing more.\nAnother line here.'), 'notes.pdf').mime).toBe(MIME.TEXT);
    expect(sniff(Buffer.from('plain words'), 'readme.md').mime).toBe(MIME.MARKDOWN);
  });

  it('detects encodings: UTF-8, UTF-16 with BOM and GB18030 Chinese', () => {
    expect(sniff(Buffer.from('中文文本，UTF-8 编码。')).encoding).toBe('utf-8');
    expect(sniff(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('hello', 'utf16le')])).encoding).toBe(
      'utf-16le',
    );
    const gbk = Buffer.from([0xd6, 0xd0, 0xce, 0xc4, 0xce, 0xc4, 0xb1, 0xbe]); // 中文文本 in GBK
    expect(sniff(gbk)).toEqual({ mime: MIME.TEXT, encoding: 'gb18030' });
  });

  it('does not mistake a multi-byte character cut at the end of the head for invalid UTF-8', () => {
    const head = Buffer.from('好'.repeat(30000)).subarray(0, 64 * 1024);
    expect(sniff(head, '', false).encoding).toBe('utf-8');
  });
});

import { MIME } from '../processing/mime-sniffer';
import { analyseContent } from './content-analysis';

describe('analyseContent', () => {
  it('counts characters, words, lines and keywords of English text', () => {
    const text = 'The quick brown fox jumps over the lazy dog.\nThe fox sleeps.\n';
    const sut = analyseContent({ mime: MIME.TEXT, encoding: 'utf-8', text }, Buffer.byteLength(text));
    expect(sut).toMatchObject({
      type: 'text/plain',
      encoding: 'utf-8',
      sizeBytes: 61,
      characters: 61,
      words: 12,
      cjkCharacters: 0,
      lines: 2,
      structure: null,
    });
    expect(sut.language.code).toBe('en');
    expect(sut.keywords[0]).toEqual({ word: 'fox', count: 2 });
  });

  it('counts Chinese words by segmentation, not by character, and guesses zh', () => {
    const text = '我们喜欢喝茶。乌龙茶很香。';
    const sut = analyseContent({ mime: MIME.TEXT, encoding: 'utf-8', text }, Buffer.byteLength(text));
    expect(sut.cjkCharacters).toBe(11);
    expect(sut.characters).toBe(13);
    expect(sut.words).toBeLessThan(11);
    expect(sut.words).toBeGreaterThanOrEqual(5);
    expect(sut.language.code).toBe('zh');
    expect(sut.keywords.map((k) => k.word)).toContain('喜欢');
  });

  it('describes CSV, JSON, Markdown and PDF structure', () => {
    const csv = 'name,age,city\nAda,36,London\n"Turing, Alan",41,Wilmslow\n';
    expect(analyseContent({ mime: MIME.CSV, text: csv, source: csv }, 10).structure).toEqual({
      delimiter: ',',
      header: ['name', 'age', 'city'],
      columns: 3,
      rows: 2,
    });
    const json = '{"title": "x", "items": [1, 2]}';
    expect(analyseContent({ mime: MIME.JSON, text: json, source: json }, 10).structure).toEqual({
      valid: true,
      topLevelType: 'object',
      topLevelKeys: ['title', 'items'],
      length: null,
    });
    expect(analyseContent({ mime: MIME.JSON, text: '{"a":', source: '{"a":' }, 5).structure).toMatchObject({
      valid: false,
    });
    const md = '# Guide\n\n```\n# not a heading\n```\n\n## Install ##\ntext';
    expect(analyseContent({ mime: MIME.MARKDOWN, text: md }, 10).structure).toEqual({
      headings: [
        { level: 1, text: 'Guide' },
        { level: 2, text: 'Install' },
      ],
    });
    expect(analyseContent({ mime: MIME.PDF, text: 'a', pages: 3 }, 10).structure).toEqual({ pages: 3 });
  });
});

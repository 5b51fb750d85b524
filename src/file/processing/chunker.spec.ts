import { chunkText } from './chunker';
import { countTokens } from './text-units';

describe('chunkText', () => {
  it('keeps small paragraphs together in one chunk', () => {
    const sut = chunkText('First paragraph here.\n\nSecond paragraph there.', { maxTokens: 50, overlapTokens: 5 });
    expect(sut).toEqual([{ text: 'First paragraph here.\n\nSecond paragraph there.', tokenCount: 6 }]);
  });

  it('splits English text into chunks of at most about maxTokens, respecting paragraphs, with overlap', () => {
    const paragraphs = Array.from({ length: 30 }, (_, i) => `Paragraph ${i} ${'word '.repeat(38)}end.`);
    const sut = chunkText(paragraphs.join('\n\n'), { maxTokens: 100, overlapTokens: 45 });
    expect(sut.length).toBeGreaterThan(10);
    for (const chunk of sut) {
      expect(chunk.tokenCount).toBe(countTokens(chunk.text));
      expect(chunk.tokenCount).toBeLessThanOrEqual(100 + 45);
      // Paragraph borders are kept: a chunk never starts or ends inside a paragraph here.
      expect(chunk.text.startsWith('Paragraph')).toBe(true);
      expect(chunk.text.endsWith('end.')).toBe(true);
    }
    // Overlap: the last paragraph of a chunk opens the next one.
    const lastOfFirst = sut[0].text.split('\n\n').pop();
    expect(sut[1].text.startsWith(lastOfFirst!)).toBe(true);
  });

  it('splits Chinese text without spaces by sentences, one token per character', () => {
    const sentence = '向量数据库用于存储和检索高维向量。';
    const sut = chunkText(sentence.repeat(40), { maxTokens: 100, overlapTokens: 10 });
    expect(countTokens(sentence)).toBe(16);
    expect(sut.length).toBeGreaterThan(5);
    for (const chunk of sut) {
      expect(chunk.tokenCount).toBeLessThanOrEqual(110);
      expect(chunk.text.endsWith('。')).toBe(true);
    }
  });

  it('cuts a giant sentence at token boundaries', () => {
    const sut = chunkText('alpha '.repeat(1000), { maxTokens: 300, overlapTokens: 0 });
    expect(sut.map((c) => c.tokenCount)).toEqual([300, 300, 300, 100]);
  });

  it('returns nothing for blank text', () => {
    expect(chunkText('  \n\n \n', { maxTokens: 10, overlapTokens: 2 })).toEqual([]);
  });
});

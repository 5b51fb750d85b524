import { countTokens, tokenOffsets, wordBoundaryAtOrBefore, words } from './text-units';

describe('text units', () => {
  it('counts Latin words and one token per CJK character, without merging them', () => {
    expect(countTokens("Don't panic: abc中文 42")).toBe(7); // don, t, panic, abc, 中, 文, 42
    expect(tokenOffsets('ab 中文')).toEqual([0, 3, 4]);
  });

  it('segments Chinese into words with Intl.Segmenter and lower-cases Latin words', () => {
    expect(words('Vector 向量检索 Search')).toEqual(['vector', '向量', '检索', 'search']);
  });

  it('moves a cut inside a Chinese word back to the word start', () => {
    const text = '我们使用数据存储向量';
    const inside = text.indexOf('据');
    expect(wordBoundaryAtOrBefore(text, inside)).toBe(text.indexOf('数'));
    expect(wordBoundaryAtOrBefore('hello world', 3)).toBe(3);
  });
});

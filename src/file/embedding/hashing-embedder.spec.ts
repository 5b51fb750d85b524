import { HASHING_DIMENSION, hashingEmbedding } from './hashing-embedder';

const cosine = (a: Float32Array, b: Float32Array) => a.reduce((sum, x, i) => sum + x * b[i], 0);

describe('hashingEmbedding', () => {
  it('is deterministic, fixed-size and unit length', () => {
    const a = hashingEmbedding('Vector search finds similar documents');
    const b = hashingEmbedding('Vector search finds similar documents');
    expect(a).toHaveLength(HASHING_DIMENSION);
    expect([...a]).toEqual([...b]);
    expect(cosine(a, a)).toBeCloseTo(1, 5);
  });

  it('ignores case and English stop words, and reads accented Latin and adjacent CJK text', () => {
    expect([...hashingEmbedding('The Vector INDEX')]).toEqual([...hashingEmbedding('vector index')]);
    expect(cosine(hashingEmbedding('Café Müller'), hashingEmbedding('café müller'))).toBeCloseTo(1, 5);
    expect(cosine(hashingEmbedding('API接口文档'), hashingEmbedding('api'))).toBeGreaterThan(0.3);
  });

  it('gives a zero vector for text without words', () => {
    expect(hashingEmbedding('  ... !!! ').every((x) => x === 0)).toBe(true);
  });

  it('scores shared vocabulary above unrelated text, in English and in Chinese', () => {
    const query = hashingEmbedding('bread dough yeast');
    expect(cosine(query, hashingEmbedding('Knead the bread dough after the yeast has bloomed'))).toBeGreaterThan(
      cosine(query, hashingEmbedding('The telescope observed a distant galaxy')),
    );
    const zh = hashingEmbedding('乌龙茶');
    expect(cosine(zh, hashingEmbedding('福建的乌龙茶和绿茶都很有名'))).toBeGreaterThan(
      cosine(zh, hashingEmbedding('今天的天气预报说明天会下雨')),
    );
  });
});

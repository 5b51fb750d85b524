import { Embedder, normalise } from './embedder';
import { isCjkWord, words } from '../processing/text-units';

export const HASHING_DIMENSION = 256;
export const HASHING_MODEL = `local-hashing-v1-${HASHING_DIMENSION}`;

/** English function words: frequent everywhere, so they only add noise to a vector. */
const STOP = new Set(
  'a an and are as at be but by for from has have he her his i in into is it its not of on or she so that the their them they this to was were which will with you your we our what when where who how'.split(' '),
);

/** Whole words count most; characters and n-grams add recall for CJK and word variants. */
const KIND_WEIGHT: Record<string, number> = { w: 1, b: 0.75, c: 0.5, t: 0.25 };

/**
 * A deterministic embedding that needs no model and no network: the "hashing trick". Each
 * feature — a word, a CJK character and a CJK character bigram, and character trigrams of
 * Latin words (so `index`/`indexing` still overlap) — is hashed to one of `dimension` slots with
 * a hashed sign; counts are damped (1 + log tf) and the vector is L2-normalised. It matches
 * shared vocabulary, not meaning: no synonyms, no translation between languages.
 */
export function hashingEmbedding(text: string, dimension = HASHING_DIMENSION): Float32Array {
  const counts = new Map<string, number>();
  const add = (feature: string) => counts.set(feature, (counts.get(feature) ?? 0) + 1);
  for (const word of words(text)) {
    if (isCjkWord(word)) {
      add(`w:${word}`);
      for (let i = 0; i < word.length; i++) {
        add(`c:${word[i]}`);
        if (i + 1 < word.length) add(`b:${word.slice(i, i + 2)}`);
      }
    } else if (!STOP.has(word)) {
      add(`w:${word}`);
      if (word.length > 4) {
        const padded = `<${word}>`;
        for (let i = 0; i + 3 <= padded.length; i++) add(`t:${padded.slice(i, i + 3)}`);
      }
    }
  }
  const vector = new Float32Array(dimension);
  for (const [feature, count] of counts) {
    const hash = fnv1a(feature);
    const slot = hash % dimension;
    const sign = (hash >>> 31) === 1 ? -1 : 1;
    vector[slot] += sign * KIND_WEIGHT[feature[0]] * (1 + Math.log(count));
  }
  return normalise(vector);
}

/** 32-bit FNV-1a over UTF-16 code units: fast, stable across runs and platforms. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** The default {@link Embedder}; `embed` runs inline (the file pipeline calls it on worker threads). */
export class HashingEmbedder implements Embedder {
  readonly model = HASHING_MODEL;
  readonly local = true;

  async embed(texts: string[]): Promise<Float32Array[]> {
    return texts.map((text) => hashingEmbedding(text));
  }
}

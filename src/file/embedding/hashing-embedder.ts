import { CJK_RUN_OR_WORD } from '../processing/text-units';
import { Embedder, normalise } from './embedder';

export const HASHING_DIMENSION = 256;
export const HASHING_MODEL = `local-hashing-v1-${HASHING_DIMENSION}`;

/** English function words: frequent everywhere, so they only add noise to a vector. */
const STOP = new Set(
  'a an and are as at be but by for from has have he her his i in into is it its not of on or she so that the their them they this to was were which will with you your we our what when where who how'.split(' '),
);

// Feature kinds, kept in the low two bits of a feature's hash. Whole words count most;
// CJK characters and bigrams, and Latin character trigrams, add recall.
const WORD = 0;
const CJK_BIGRAM = 1;
const CJK_CHAR = 2;
const TRIGRAM = 3;
const KIND_WEIGHT = [1, 0.75, 0.5, 0.25];
const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/**
 * A deterministic embedding that needs no model and no network: the "hashing trick". Features
 * are Latin words (English stop words dropped) with their character trigrams (so `index` and
 * `indexing` still overlap), and for CJK text — which has no spaces — every character and
 * every pair of adjacent characters (the classic CJK bigram index: robust whatever the word
 * segmentation). Each feature is hashed (FNV-1a) to one of `dimension` slots with a hashed
 * sign; counts are damped (1 + ln tf) and the vector is L2-normalised. It matches shared
 * vocabulary, not meaning: no synonyms, no translation between languages.
 */
export function hashingEmbedding(text: string, dimension = HASHING_DIMENSION): Float32Array {
  const counts = new Map<number, number>();
  const add = (hash: number, kind: number) => {
    const key = ((hash & ~3) | kind) >>> 0;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  };
  const lower = text.toLowerCase();
  CJK_RUN_OR_WORD.lastIndex = 0;
  let match: RegExpExecArray | null;
  while ((match = CJK_RUN_OR_WORD.exec(lower)) !== null) {
    const run = match[1];
    if (run !== undefined) {
      for (let i = 0; i < run.length; i++) {
        const c = run.charCodeAt(i);
        add(mix(mix(FNV_OFFSET ^ CJK_CHAR, c), 0), CJK_CHAR);
        if (i + 1 < run.length) add(mix(mix(FNV_OFFSET ^ CJK_BIGRAM, c), run.charCodeAt(i + 1)), CJK_BIGRAM);
      }
      continue;
    }
    const word = match[2];
    if (STOP.has(word)) continue;
    let hash = FNV_OFFSET;
    for (let i = 0; i < word.length; i++) hash = mix(hash, word.charCodeAt(i));
    add(hash, WORD);
    if (word.length > 4) {
      // Trigrams of `<word>`: the angle brackets mark the word's start and end.
      for (let i = -1; i + 2 <= word.length; i++) {
        const a = i < 0 ? 60 : word.charCodeAt(i);
        const b = word.charCodeAt(i + 1);
        const c = i + 2 < word.length ? word.charCodeAt(i + 2) : 62;
        add(mix(mix(mix(FNV_OFFSET ^ TRIGRAM, a), b), c), TRIGRAM);
      }
    }
  }
  const vector = new Float32Array(dimension);
  for (const [key, count] of counts) {
    const slot = (key >>> 2) % dimension;
    const sign = key >>> 31 === 1 ? -1 : 1;
    vector[slot] += sign * KIND_WEIGHT[key & 3] * (1 + Math.log(count));
  }
  return normalise(vector);
}

/** One FNV-1a step over a UTF-16 code unit. */
function mix(hash: number, code: number): number {
  return Math.imul(hash ^ code, FNV_PRIME) >>> 0;
}

/** The default {@link Embedder}; `embed` runs inline (the file pipeline calls it on worker threads). */
export class HashingEmbedder implements Embedder {
  readonly model = HASHING_MODEL;
  readonly local = true;

  async embed(texts: string[]): Promise<Float32Array[]> {
    return texts.map((text) => hashingEmbedding(text));
  }
}

/**
 * How the File domain counts and splits words. Latin-script text is split on letters and
 * digits; CJK text has no spaces, so each Han/Kana/Hangul character counts as one token
 * (cheap, stable, close to what sub-word tokenizers do for Chinese) and `Intl.Segmenter`
 * supplies real words where meaning matters (embedding features, keywords, word counts).
 */

/** One CJK ideograph, kana or hangul syllable. */
export const CJK_CHAR = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/u;
const CJK_RUN = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]+/gu;
/** A Latin-like word: letters, digits and inner apostrophes, excluding CJK characters. */
const WORD_OR_CJK = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]|[\p{L}\p{N}]+(?:['’][\p{L}]+)*/gu;

/** Token count: Latin words plus one per CJK character. */
export function countTokens(text: string): number {
  let count = 0;
  WORD_OR_CJK.lastIndex = 0;
  while (WORD_OR_CJK.exec(text) !== null) count++;
  return count;
}

/** Start offsets of every token, so long passages can be cut at token boundaries. */
export function tokenOffsets(text: string): number[] {
  const offsets: number[] = [];
  WORD_OR_CJK.lastIndex = 0;
  let match: RegExpExecArray | null;
  while ((match = WORD_OR_CJK.exec(text)) !== null) offsets.push(match.index);
  return offsets;
}

let segmenter: Intl.Segmenter | undefined;

/**
 * Words of `text`, lower-cased: Latin words by regex (fast), CJK runs through
 * `Intl.Segmenter('zh')`, which knows Chinese words (`向量`, `数据库`), and falls back to
 * single characters where ICU has no dictionary.
 */
export function words(text: string): string[] {
  const out: string[] = [];
  const lower = text.toLowerCase();
  let last = 0;
  CJK_RUN.lastIndex = 0;
  let run: RegExpExecArray | null;
  while ((run = CJK_RUN.exec(lower)) !== null) {
    latinWords(lower.slice(last, run.index), out);
    segmenter ??= new Intl.Segmenter('zh', { granularity: 'word' });
    for (const part of segmenter.segment(run[0])) if (part.isWordLike) out.push(part.segment);
    last = run.index + run[0].length;
  }
  latinWords(lower.slice(last), out);
  return out;
}

const LATIN_WORD = /[\p{L}\p{N}]+(?:['’][\p{L}]+)*/gu;

function latinWords(text: string, out: string[]): void {
  if (text.length === 0) return;
  LATIN_WORD.lastIndex = 0;
  let match: RegExpExecArray | null;
  while ((match = LATIN_WORD.exec(text)) !== null) out.push(match[0]);
}

export function isCjkWord(word: string): boolean {
  return CJK_CHAR.test(word);
}

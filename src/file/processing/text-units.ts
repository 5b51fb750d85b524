/**
 * How the File domain counts and splits words. Latin-script text is split on letters and
 * digits; CJK text has no spaces, so each Han/Kana/Hangul character counts as one token
 * (cheap, stable, close to what sub-word tokenizers do for Chinese) and `Intl.Segmenter`
 * supplies real words where meaning matters (word counts, keywords, and where a chunk that
 * must be cut mid-sentence is cut).
 */

const CJK_CLASS = String.raw`\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}`;
/** One CJK ideograph, kana or hangul syllable. */
export const CJK_CHAR = new RegExp(`[${CJK_CLASS}]`, 'v');
// The `v` flag (set subtraction) keeps Latin words from swallowing adjacent CJK characters
// (`abc中文` is `abc` + `中` + `文`). Built with the constructor: the TS target predates `v`.
const WORD_OR_CJK = new RegExp(`[${CJK_CLASS}]|[[\\p{L}\\p{N}]--[${CJK_CLASS}]]+(?:['’][[\\p{L}]--[${CJK_CLASS}]]+)*`, 'gv');
/** A run of CJK characters (group 1) or one Latin-like word (group 2). */
export const CJK_RUN_OR_WORD = new RegExp(`([${CJK_CLASS}]+)|([[\\p{L}\\p{N}]--[${CJK_CLASS}]]+(?:['’][[\\p{L}]--[${CJK_CLASS}]]+)*)`, 'gv');

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

let wordSegmenter: Intl.Segmenter | undefined;

function segmenter(): Intl.Segmenter {
  return (wordSegmenter ??= new Intl.Segmenter('zh', { granularity: 'word' }));
}

/**
 * Words of `text`, lower-cased: Latin words by regex (fast), CJK runs through
 * `Intl.Segmenter('zh')`, which knows Chinese words (`向量`, `检索`) and falls back to
 * single characters where ICU has no dictionary. Slow on CJK (~1 MB/s): used for analysis,
 * not on the embedding path.
 */
export function words(text: string): string[] {
  const out: string[] = [];
  const lower = text.toLowerCase();
  CJK_RUN_OR_WORD.lastIndex = 0;
  let match: RegExpExecArray | null;
  while ((match = CJK_RUN_OR_WORD.exec(lower)) !== null) {
    if (match[2] !== undefined) out.push(match[2]);
    else for (const part of segmenter().segment(match[1])) if (part.isWordLike) out.push(part.segment);
  }
  return out;
}

/**
 * `offset` moved back to the nearest word boundary when it falls inside a CJK word, judged by
 * `Intl.Segmenter` on a small window (so a forced cut never splits `数据`).
 */
export function wordBoundaryAtOrBefore(text: string, offset: number): number {
  if (offset <= 0 || offset >= text.length || !CJK_CHAR.test(text[offset]) || !CJK_CHAR.test(text[offset - 1])) return offset;
  const start = Math.max(0, offset - 16);
  let boundary = start;
  for (const part of segmenter().segment(text.slice(start, Math.min(text.length, offset + 16)))) {
    if (start + part.index > offset) break;
    boundary = start + part.index;
  }
  return boundary > start ? boundary : offset;
}

export function isCjkWord(word: string): boolean {
  return CJK_CHAR.test(word);
}

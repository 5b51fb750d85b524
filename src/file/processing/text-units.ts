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
/**
 * A run of CJK characters (group 1) or one Latin-like word (group 2). The `v` flag (set
 * subtraction) keeps Latin words from swallowing adjacent CJK characters (`abc中文` is `abc`
 * + `中文`). Built with the constructor: the TS target predates `v`.
 */
export const CJK_RUN_OR_WORD = new RegExp(
  `([${CJK_CLASS}]+)|([[\\p{L}\\p{N}]--[${CJK_CLASS}]]+(?:['’][[\\p{L}]--[${CJK_CLASS}]]+)*)`,
  'gv',
);

/** Token count: Latin words (runs of letters and digits) plus one per CJK character. */
export function countTokens(text: string): number {
  let count = 0;
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    const kind = charKind(text.charCodeAt(i), text, i);
    if (kind === CHAR_CJK) count++;
    else if (kind === CHAR_WORD && !inWord) count++;
    inWord = kind === CHAR_WORD;
  }
  return count;
}

/** Start offsets of every token (as counted by {@link countTokens}), so long passages can be cut at token boundaries. */
export function tokenOffsets(text: string): number[] {
  const offsets: number[] = [];
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    const kind = charKind(text.charCodeAt(i), text, i);
    if (kind === CHAR_CJK || (kind === CHAR_WORD && !inWord)) offsets.push(i);
    inWord = kind === CHAR_WORD;
  }
  return offsets;
}

export const CHAR_OTHER = 0;
export const CHAR_WORD = 1;
export const CHAR_CJK = 2;
const NON_ASCII_WORD_CHAR = /[\p{L}\p{N}\p{M}]/u;

/**
 * What the character at `at` is: part of a Latin-like word (letters, digits, marks), a CJK
 * character (Han, kana, hangul), or a separator. Char-code ranges first: this is the hot loop
 * of chunking and embedding, and a regex per token is several times slower.
 */
export function charKind(code: number, text: string, at: number): number {
  if (code < 128)
    return (code >= 97 && code <= 122) || (code >= 65 && code <= 90) || (code >= 48 && code <= 57)
      ? CHAR_WORD
      : CHAR_OTHER;
  if (
    (code >= 0x4e00 && code <= 0x9fff) ||
    (code >= 0x3400 && code <= 0x4dbf) ||
    (code >= 0xf900 && code <= 0xfaff) ||
    (code >= 0x3040 && code <= 0x30ff) ||
    (code >= 0xac00 && code <= 0xd7af) ||
    (code >= 0x1100 && code <= 0x11ff)
  ) {
    return CHAR_CJK;
  }
  if (code >= 0xd800 && code <= 0xdbff) return CJK_CHAR.test(text.slice(at, at + 2)) ? CHAR_CJK : CHAR_OTHER; // astral Han (Extension B+)
  return NON_ASCII_WORD_CHAR.test(text[at]) ? CHAR_WORD : CHAR_OTHER;
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
  if (offset <= 0 || offset >= text.length || !CJK_CHAR.test(text[offset]) || !CJK_CHAR.test(text[offset - 1]))
    return offset;
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

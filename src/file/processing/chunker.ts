import { countTokens, tokenOffsets, wordBoundaryAtOrBefore } from './text-units';

export interface Chunk {
  text: string;
  tokenCount: number;
}

export interface ChunkOptions {
  /** Target size of a chunk in tokens (see text-units.ts for what a token is). */
  maxTokens: number;
  /** Tokens of the previous chunk repeated at the start of the next, so a sentence cut at a border is still found. */
  overlapTokens: number;
}

export const DEFAULT_CHUNKING: ChunkOptions = { maxTokens: 500, overlapTokens: 50 };

interface Unit {
  text: string;
  tokens: number;
}

// Sentence ends in English and Chinese; the split keeps the punctuation with its sentence.
const SENTENCE_END = /(?<=[.!?。！？；;])\s*/u;

/**
 * Splits text into chunks of about `maxTokens` tokens. Paragraphs (blank-line separated)
 * are kept whole when they fit; longer ones are split at sentence ends, and a sentence that
 * is still too long is cut at token boundaries. Consecutive chunks share about
 * `overlapTokens` tokens.
 */
export function chunkText(text: string, options: ChunkOptions = DEFAULT_CHUNKING): Chunk[] {
  const units = toUnits(text, options.maxTokens);
  const chunks: Chunk[] = [];
  let current: Unit[] = [];
  let tokens = 0;
  const flush = () => {
    if (current.length === 0) return;
    chunks.push({ text: current.map((u) => u.text).join('\n\n'), tokenCount: tokens });
    const overlap = tailUnits(current, options.overlapTokens);
    current = overlap;
    tokens = overlap.reduce((sum, u) => sum + u.tokens, 0);
  };
  let fresh = 0;
  for (const unit of units) {
    if (tokens + unit.tokens > options.maxTokens && fresh > 0) {
      flush();
      fresh = 0;
    }
    current.push(unit);
    tokens += unit.tokens;
    fresh++;
  }
  if (fresh > 0) flush();
  return chunks;
}

/** Paragraphs, split further until each unit fits in `maxTokens`. */
function toUnits(text: string, maxTokens: number): Unit[] {
  const units: Unit[] = [];
  for (const raw of text.split(/\n[ \t]*\n+/)) {
    const paragraph = raw.trim();
    if (!paragraph) continue;
    const tokens = countTokens(paragraph);
    if (tokens === 0) continue;
    if (tokens <= maxTokens) {
      units.push({ text: paragraph, tokens });
      continue;
    }
    let sentence = '';
    let sentenceTokens = 0;
    for (const piece of paragraph.split(SENTENCE_END)) {
      const pieceTokens = countTokens(piece);
      if (pieceTokens > maxTokens) {
        if (sentence) units.push({ text: sentence, tokens: sentenceTokens });
        sentence = '';
        sentenceTokens = 0;
        units.push(...cutAtTokens(piece, maxTokens));
      } else if (sentenceTokens + pieceTokens > maxTokens) {
        units.push({ text: sentence, tokens: sentenceTokens });
        sentence = piece;
        sentenceTokens = pieceTokens;
      } else {
        sentence = sentence ? joinSentence(sentence, piece) : piece;
        sentenceTokens += pieceTokens;
      }
    }
    if (sentence && sentenceTokens > 0) units.push({ text: sentence, tokens: sentenceTokens });
  }
  return units;
}

function joinSentence(a: string, b: string): string {
  // Chinese sentences join without a space; Latin ones with one.
  return /[。！？；]$/u.test(a) ? a + b : `${a} ${b}`;
}

function cutAtTokens(text: string, maxTokens: number): Unit[] {
  const offsets = tokenOffsets(text);
  const units: Unit[] = [];
  let from = 0;
  while (from < offsets.length) {
    let to = Math.min(offsets.length, from + maxTokens);
    if (to < offsets.length) {
      // Chinese has no spaces: step back to a word boundary so a word is not cut in two.
      const cut = wordBoundaryAtOrBefore(text, offsets[to]);
      while (to > from + 1 && offsets[to] > cut) to--;
    }
    const end = to < offsets.length ? offsets[to] : text.length;
    units.push({ text: text.slice(offsets[from], end).trim(), tokens: to - from });
    from = to;
  }
  return units;
}

/** The last units of a chunk, up to `budget` tokens; the tail of the last unit when it alone is larger. */
function tailUnits(units: Unit[], budget: number): Unit[] {
  if (budget <= 0) return [];
  const tail: Unit[] = [];
  let tokens = 0;
  for (let i = units.length - 1; i >= 0; i--) {
    if (tokens + units[i].tokens > budget) {
      if (tail.length === 0) {
        const offsets = tokenOffsets(units[i].text);
        const piece = units[i].text.slice(offsets[offsets.length - budget]);
        return [{ text: piece, tokens: budget }];
      }
      break;
    }
    tail.unshift(units[i]);
    tokens += units[i].tokens;
  }
  return tail;
}

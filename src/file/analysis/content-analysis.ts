import { ExtractedText } from '../processing/text-extraction';
import { MIME, splitCsvLine } from '../processing/mime-sniffer';
import { CJK_CHAR, isCjkWord, words } from '../processing/text-units';

export interface ContentAnalysis {
  type: string;
  encoding: string | null;
  sizeBytes: number;
  /** Unicode code points of the extracted text. */
  characters: number;
  /** Latin words plus CJK words as `Intl.Segmenter` splits them (中文分词), not CJK characters. */
  words: number;
  cjkCharacters: number;
  lines: number;
  language: { code: string; confidence: number };
  keywords: { word: string; count: number }[];
  structure: Record<string, unknown> | null;
}

const STOP_EN = new Set(
  'the a an and or but if of to in on at by for from with as is are was were be been being it its this that these those there their they them he she his her you your we our i me my not no so do does did done have has had will would can could should may might than then also into over under about which who whom what when where why how all any each other some such only own same too very just more most out up down off again once here both few nor'.split(
    ' ',
  ),
);
const STOP_ZH = new Set(
  '的 了 是 在 和 与 及 或 也 都 就 而 并 等 着 过 被 把 让 对 从 以 为 于 之 其 这 那 这个 那个 一个 我们 你们 他们 它们 我 你 他 她 它 有 没有 不 很 更 最 又 还 但 但是 因为 所以 如果 可以 已经 一些 什么 没 个 中 上 下'.split(
    ' ',
  ),
);

/** The figures `tasks.file.analyze_file` stores. Pure: runs on a worker thread. */
export function analyseContent(extracted: ExtractedText, sizeBytes: number, keywordCount = 10): ContentAnalysis {
  const text = extracted.text;
  const tokens = words(text);
  const cjkCharacters = countMatches(text, new RegExp(CJK_CHAR.source, 'gu'));
  const latinLetters = countMatches(text, /\p{Script=Latin}/gu);
  return {
    type: extracted.mime,
    encoding: extracted.encoding ?? null,
    sizeBytes,
    characters: [...text].length,
    words: tokens.length,
    cjkCharacters,
    lines: text.length === 0 ? 0 : text.split('\n').length - (text.endsWith('\n') ? 1 : 0),
    language: guessLanguage(text, tokens, cjkCharacters, latinLetters),
    keywords: topKeywords(tokens, keywordCount),
    structure: structureOf(extracted),
  };
}

function countMatches(text: string, pattern: RegExp): number {
  let count = 0;
  pattern.lastIndex = 0;
  while (pattern.exec(text) !== null) count++;
  return count;
}

function guessLanguage(
  text: string,
  tokens: string[],
  cjk: number,
  latin: number,
): { code: string; confidence: number } {
  const total = cjk + latin;
  if (total === 0) return { code: 'und', confidence: 0 };
  if (cjk / total >= 0.3) {
    const kana = countMatches(text, /[\p{Script=Hiragana}\p{Script=Katakana}]/gu);
    const hangul = countMatches(text, /\p{Script=Hangul}/gu);
    const code = hangul > cjk / 2 ? 'ko' : kana > cjk / 5 ? 'ja' : 'zh';
    return { code, confidence: round(cjk / total) };
  }
  const latinWords = tokens.filter((t) => !isCjkWord(t));
  const english = latinWords.filter((t) => STOP_EN.has(t)).length / Math.max(1, latinWords.length);
  // Function words are ~40% of running English text; other Latin-script languages score low.
  if (english >= 0.15) return { code: 'en', confidence: round(Math.min(1, english / 0.4)) };
  return { code: 'und', confidence: round(1 - english / 0.15) / 2 };
}

function topKeywords(tokens: string[], count: number): { word: string; count: number }[] {
  const counts = new Map<string, number>();
  for (const token of tokens) {
    const cjk = isCjkWord(token);
    if (cjk ? token.length < 2 || STOP_ZH.has(token) : token.length < 3 || STOP_EN.has(token) || /^\d+$/.test(token))
      continue;
    counts.set(token, (counts.get(token) ?? 0) + 1);
  }
  return [...counts]
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .slice(0, count)
    .map(([word, n]) => ({ word, count: n }));
}

function structureOf(extracted: ExtractedText): Record<string, unknown> | null {
  const source = extracted.source ?? extracted.text;
  switch (extracted.mime) {
    case MIME.CSV:
      return csvStructure(source);
    case MIME.JSON:
      return jsonStructure(source);
    case MIME.MARKDOWN:
      return { headings: markdownHeadings(source) };
    case MIME.PDF:
      return { pages: extracted.pages ?? null };
    case MIME.HTML: {
      const title = /<title[^>]*>([\s\S]*?)<\/title>/i.exec(source)?.[1]?.trim();
      return { title: title ?? null };
    }
    default:
      return null;
  }
}

function csvStructure(source: string): Record<string, unknown> {
  const lines = source.split(/\r?\n/).filter((l) => l.trim() !== '');
  const delimiter = [',', ';', '\t'].find((d) => splitCsvLine(lines[0] ?? '', d).length > 1) ?? ',';
  const header = splitCsvLine(lines[0] ?? '', delimiter).map((h) => h.trim());
  return { delimiter, header, columns: header.length, rows: Math.max(0, lines.length - 1) };
}

function jsonStructure(source: string): Record<string, unknown> {
  try {
    const value = JSON.parse(source);
    const kind = Array.isArray(value) ? 'array' : value === null ? 'null' : typeof value;
    return {
      valid: true,
      topLevelType: kind,
      topLevelKeys: kind === 'object' ? Object.keys(value) : null,
      length: Array.isArray(value) ? value.length : null,
    };
  } catch (error) {
    return { valid: false, error: error.message };
  }
}

function markdownHeadings(source: string): { level: number; text: string }[] {
  const headings: { level: number; text: string }[] = [];
  let fenced = false;
  for (const line of source.split('\n')) {
    if (/^\s*```/.test(line)) fenced = !fenced;
    const match = !fenced && /^(#{1,6})\s+(.+?)\s*#*\s*$/.exec(line);
    if (match) headings.push({ level: match[1].length, text: match[2] });
  }
  return headings;
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}

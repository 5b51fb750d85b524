/**
 * What a file really is, judged from its bytes; the client's Content-Type and extension are
 * not trusted. Binary formats by magic number; text by encoding, then by shape (JSON, HTML,
 * CSV, Markdown). The extension only breaks a tie between plain text and Markdown.
 */
export const MIME = {
  PDF: 'application/pdf',
  DOCX: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  ZIP: 'application/zip',
  JSON: 'application/json',
  HTML: 'text/html',
  CSV: 'text/csv',
  MARKDOWN: 'text/markdown',
  TEXT: 'text/plain',
  BINARY: 'application/octet-stream',
} as const;

export type TextEncodingName = 'utf-8' | 'utf-16le' | 'utf-16be' | 'gb18030';

export interface Sniffed {
  mime: string;
  /** Text encoding, for text types. */
  encoding?: TextEncodingName;
}

/** How many leading bytes the upload keeps for sniffing. */
export const SNIFF_BYTES = 64 * 1024;

/**
 * @param head the first bytes of the file (up to {@link SNIFF_BYTES}; the whole file when smaller)
 * @param complete true when `head` is the whole file (JSON can then be parsed, not guessed)
 */
export function sniff(head: Buffer, name = '', complete = head.length < SNIFF_BYTES): Sniffed {
  if (head.subarray(0, 5).toString('latin1') === '%PDF-') return { mime: MIME.PDF };
  if (head[0] === 0x50 && head[1] === 0x4b && (head[2] === 3 || head[2] === 5 || head[2] === 7)) {
    return { mime: isDocx(head) ? MIME.DOCX : MIME.ZIP };
  }
  const encoding = detectEncoding(head, complete);
  if (!encoding) return { mime: MIME.BINARY };
  // The kind is judged on the first SNIFF_BYTES (JSON of a complete file is parsed whole).
  const text = decode(
    complete && head.length > SNIFF_BYTES && !startsLikeJson(head) ? head.subarray(0, SNIFF_BYTES) : head,
    encoding,
    complete && head.length <= SNIFF_BYTES,
  );
  return { mime: textKind(text, name, complete), encoding };
}

/** A Word document is a ZIP whose entries include `word/document.xml` (names are stored in clear). */
export function isDocx(bytes: Buffer): boolean {
  return (
    bytes.includes('word/document.xml', 0, 'latin1') ||
    (bytes.includes('[Content_Types].xml', 0, 'latin1') && bytes.includes('word/', 0, 'latin1'))
  );
}

export function detectEncoding(bytes: Buffer, complete = true): TextEncodingName | undefined {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return 'utf-8';
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return 'utf-16le';
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return 'utf-16be';
  if (bytes.includes(0)) return undefined;
  // A multi-byte character may be cut at the end of the sniffed head: drop up to 3 bytes.
  const body = complete ? bytes : trimPartialUtf8(bytes);
  // Validity is checked on everything (native, fast); the control-character test on a sample.
  const sample = body.subarray(0, SNIFF_BYTES);
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(body);
    return looksLikeText(trimPartialUtf8(sample).toString('utf8')) ? 'utf-8' : undefined;
  } catch {
    // Not UTF-8: legacy Chinese text is usually GBK/GB18030.
    const text = new TextDecoder('gb18030').decode(sample);
    const replaced = (text.match(/\uFFFD/g) ?? []).length;
    return replaced <= text.length / 1000 && looksLikeText(text) ? 'gb18030' : undefined;
  }
}

export function decode(bytes: Buffer, encoding: TextEncodingName, complete = true): string {
  const body = !complete && encoding === 'utf-8' ? trimPartialUtf8(bytes) : bytes;
  // TextDecoder drops the BOM by default.
  return new TextDecoder(encoding).decode(body);
}

function startsLikeJson(bytes: Buffer): boolean {
  const start = bytes
    .subarray(0, 64)
    .toString('latin1')
    .replace(/^\uFEFF|^\xEF\xBB\xBF/, '')
    .trimStart();
  return start[0] === '{' || start[0] === '[';
}

function trimPartialUtf8(bytes: Buffer): Buffer {
  let end = bytes.length;
  for (let back = 1; back <= 3 && end - back >= 0; back++) {
    const byte = bytes[end - back];
    if ((byte & 0xc0) === 0x80) continue; // continuation byte
    if (byte >= 0xc0) end -= back; // lead byte of a possibly incomplete character
    break;
  }
  return bytes.subarray(0, end);
}

/** Few control characters besides tab, CR, LF and form feed. */
function looksLikeText(text: string): boolean {
  const controls = (text.match(/[\u0001-\u0008\u000e-\u001f\u007f]/g) ?? []).length;
  return controls <= Math.max(1, text.length / 200);
}

function textKind(text: string, name: string, complete: boolean): string {
  const start = text.replace(/^\uFEFF/, '').trimStart();
  if (/^[{[]/.test(start) && looksLikeJson(start, complete)) return MIME.JSON;
  if (start.length > SNIFF_BYTES) return kindOfTextStart(start.slice(0, SNIFF_BYTES), name);
  return kindOfTextStart(start, name);
}

function kindOfTextStart(start: string, name: string): string {
  if (
    /^(<!doctype html|<html[\s>]|<head[\s>]|<body[\s>])/i.test(start) ||
    /<(html|body|div|p|h1|table)[\s>][\s\S]*<\/\1>/i.test(start.slice(0, 4096))
  )
    return MIME.HTML;
  if (looksLikeCsv(start)) return MIME.CSV;
  if (looksLikeMarkdown(start) || /\.(md|markdown)$/i.test(name)) return MIME.MARKDOWN;
  return MIME.TEXT;
}

function looksLikeJson(text: string, complete: boolean): boolean {
  if (complete) {
    try {
      JSON.parse(text);
      return true;
    } catch {
      return false;
    }
  }
  return /^(\{\s*("|\})|\[\s*([-\d"{[\]]|true|false|null))/.test(text);
}

function looksLikeCsv(text: string): boolean {
  const lines = text
    .split(/\r?\n/)
    .filter((l) => l.trim())
    .slice(0, 20);
  if (lines.length < 2) return false;
  for (const delimiter of [',', ';', '\t']) {
    const counts = lines.map((l) => splitCsvLine(l, delimiter).length);
    if (counts[0] >= 2 && counts.every((c) => c === counts[0])) return true;
  }
  return false;
}

/** One CSV line's fields, honouring double quotes (no multi-line fields). */
export function splitCsvLine(line: string, delimiter = ','): string[] {
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === delimiter) {
      fields.push(field);
      field = '';
    } else field += c;
  }
  fields.push(field);
  return fields;
}

function looksLikeMarkdown(text: string): boolean {
  const sample = text.slice(0, 8192);
  const signals = [/^#{1,6} \S/m, /^```/m, /\[[^\]]+\]\([^)]+\)/, /^\s*[-*] \S/m, /^\s*\d+\. \S/m, /\*\*[^*]+\*\*/];
  return signals.filter((s) => s.test(sample)).length >= 2 || /^#{1,6} \S/m.test(sample);
}

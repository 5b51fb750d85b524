import { decodeHTML } from 'entities';
import { decode, detectEncoding, isDocx, MIME, sniff, TextEncodingName } from './mime-sniffer';
import { checkZipLimits } from './zip-limits';

/** The file cannot be turned into text (unsupported type, corrupt content): retrying will not help. */
export class ExtractionError extends Error {
  override name = 'ExtractionError';
}

export interface ExtractedText {
  /** The type judged from the whole content. */
  mime: string;
  encoding?: TextEncodingName;
  text: string;
  /** The decoded source for text types (HTML before tag stripping, CSV and JSON as written). */
  source?: string;
  pages?: number;
}

const TEXT_TYPES = new Set<string>([MIME.TEXT, MIME.MARKDOWN, MIME.CSV, MIME.JSON, MIME.HTML]);

/** Extracts the text of a whole file. Runs on a worker thread (file-cpu.worker.ts). */
export async function extractText(bytes: Buffer, name: string): Promise<ExtractedText> {
  const { mime, encoding } = sniff(bytes, name, true);
  if (mime === MIME.PDF) return extractPdf(bytes);
  if (mime === MIME.DOCX) return extractDocx(bytes);
  if (TEXT_TYPES.has(mime)) {
    const source = decode(bytes, encoding ?? detectEncoding(bytes) ?? 'utf-8');
    const text = mime === MIME.HTML ? htmlToText(source) : source;
    return { mime, encoding, text: clean(text), source };
  }
  const what = mime === MIME.ZIP ? 'a ZIP archive that is not a Word document' : 'binary data of no supported type';
  throw new ExtractionError(
    `"${name}" is ${what} (${mime}); supported: plain text, Markdown, CSV, JSON, HTML, PDF and DOCX`,
  );
}

async function extractPdf(bytes: Buffer): Promise<ExtractedText> {
  // Loaded lazily: pdf.js is large and only the worker threads need it.
  const { PDFParse } = await import('pdf-parse');
  const parser = new PDFParse({ data: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), verbosity: 0 });
  try {
    const result = await parser.getText();
    return { mime: MIME.PDF, text: clean(result.pages.map((p) => p.text).join('\n\n')), pages: result.total };
  } catch (error) {
    throw new ExtractionError(`The file is not a readable PDF (${error.name ?? 'Error'}: ${error.message})`);
  } finally {
    await parser.destroy().catch(() => undefined);
  }
}

async function extractDocx(bytes: Buffer): Promise<ExtractedText> {
  if (!isDocx(bytes))
    throw new ExtractionError('The file is a ZIP archive without word/document.xml, not a Word document');
  // mammoth inflates the parts it reads into memory: a decompression bomb would exhaust it.
  await checkZipLimits(bytes).catch((error: Error) => {
    throw new ExtractionError(`The Word document (DOCX) is refused: ${error.message}`);
  });
  const mammoth = await import('mammoth');
  try {
    const { value } = await mammoth.extractRawText({ buffer: bytes });
    return { mime: MIME.DOCX, text: clean(value) };
  } catch (error) {
    throw new ExtractionError(`The file is not a readable Word document (DOCX): ${error.message}`);
  }
}

const BLOCK_TAGS = /<\/?(p|div|br|li|ul|ol|tr|table|h[1-6]|section|article|header|footer|blockquote|pre|hr)\b[^>]*>/gi;

/** HTML → text: scripts, styles and comments dropped, block tags become line breaks, entities decoded. */
export function htmlToText(html: string): string {
  const markupless = html
    .replace(/<!--[\s\S]*?-->/g, '')
    .replace(/<(script|style|noscript|template)\b[\s\S]*?<\/\1\s*>/gi, '')
    .replace(BLOCK_TAGS, '\n\n')
    .replace(/<[^>]+>/g, '');
  // Decoded as a browser decodes text: every named entity of HTML5, numeric references and the
  // legacy names without a semicolon; `&constructor;` is no entity and stays as written.
  return (
    decodeHTML(markupless)
      // A no-break space separates words as a space does; the index should see one.
      .replace(/\u00a0/g, ' ')
      .replace(/[ \t]+/g, ' ')
      .replace(/ *\n */g, '\n')
      .replace(/\n{3,}/g, '\n\n')
      .trim()
  );
}

/** PostgreSQL text cannot hold NUL; CRLF becomes LF. */
function clean(text: string): string {
  return text.replace(/\u0000/g, '').replace(/\r\n?/g, '\n');
}

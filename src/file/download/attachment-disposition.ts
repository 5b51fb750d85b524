import { create } from 'content-disposition';

/**
 * `Content-Disposition: attachment` for a download named `name`: the `content-disposition` package
 * writes the quoting and the RFC 8187 `filename*` (which must percent-encode `'`, `(` and `*`),
 * and {@link asciiFallback} gives clients that only read `filename=` (curl -OJ) a readable name.
 */
export function attachmentDisposition(name: string, fallbackStem: string): string {
  return create(name, { fallback: asciiFallback(name, fallbackStem) });
}

/**
 * A plain-ASCII file name for `filename=`: accents dropped (`naïve` → `naive`), full-width forms
 * folded (`２０２６` → `2026`), other non-ASCII runs removed, and characters clients misread (`"`,
 * `\`, `/`, `%`) replaced; the extension is kept. When no letter or digit of the name survives
 * (`导出.zip`), `fallbackStem` names it instead (`export-<id>.zip`) rather than `__.zip`.
 */
export function asciiFallback(name: string, fallbackStem: string): string {
  const dot = name.lastIndexOf('.');
  const stem = toAscii(dot > 0 ? name.slice(0, dot) : name);
  const extension = dot > 0 ? `.${toAscii(name.slice(dot + 1))}` : '';
  const keptExtension = /^\.[A-Za-z0-9]{1,16}$/.test(extension) ? extension : '';
  return `${/[A-Za-z0-9]/.test(stem) ? stem : fallbackStem}${keptExtension}`;
}

function toAscii(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .replace(/[^\x20-\x7e]+/g, ' ')
    .replace(/["\\/%]/g, '_')
    .replace(/\s+/g, ' ')
    .replace(/^[\s_-]+|[\s_-]+$/g, '');
}

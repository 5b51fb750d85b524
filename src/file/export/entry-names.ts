import { extname } from 'node:path';

const MAX_NAME_BYTES = 200;
// C0 and C1 controls, DEL, and the bidi overrides that can disguise a name's extension.
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

// Characters Windows refuses in a name; `:` would even write an alternate data stream (`a.txt:b`).
const WINDOWS_FORBIDDEN = /[<>:"|?*]/g;
// Device names Windows reserves with any extension (`NUL.txt`, `con.tar.gz`), digits and superscripts included.
const WINDOWS_RESERVED = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])$/i;

/**
 * A file's name as a flat ZIP entry name: only the last path segment is kept (so `../../evil`
 * and `/etc/passwd` cannot climb out of the extraction directory), control characters and
 * backslashes are removed, and an empty or dot-only result becomes `file`. It also extracts on
 * Windows: forbidden characters become `_`, trailing dots and spaces (which Windows drops) go, and
 * a reserved device name (`CON`, `NUL.txt`, `com1.log`) gets a `_` in front.
 */
export function sanitizeEntryName(original: string): string {
  const segment = original.replace(UNSAFE, '').split(/[\\/]/).pop() ?? '';
  const trimmed = segment
    .replace(WINDOWS_FORBIDDEN, '_')
    .trim()
    .replace(/[. ]+$/, '');
  const name = trimmed === '' ? 'file' : trimmed;
  const device = name.split('.')[0].trimEnd();
  return truncateUtf8(WINDOWS_RESERVED.test(device) ? `_${name}` : name, MAX_NAME_BYTES);
}

/** Hands out sanitised names, making duplicates unique: `report.pdf`, `report (2).pdf`, … (case-insensitive, for Windows and macOS). */
export class EntryNames {
  private readonly taken = new Set<string>(['manifest.json']);

  next(original: string): string {
    const name = sanitizeEntryName(original);
    const ext = extname(name);
    const stem = name.slice(0, name.length - ext.length);
    let candidate = name;
    for (let n = 2; this.taken.has(candidate.toLowerCase()); n++) candidate = `${stem} (${n})${ext}`;
    this.taken.add(candidate.toLowerCase());
    return candidate;
  }
}

/** Cuts at a code point boundary so a long Chinese name stays valid UTF-8. */
function truncateUtf8(name: string, maxBytes: number): string {
  if (Buffer.byteLength(name) <= maxBytes) return name;
  const ext = extname(name).slice(0, 20);
  let stem = [...name.slice(0, name.length - extname(name).length)];
  while (Buffer.byteLength(stem.join('') + ext) > maxBytes) stem = stem.slice(0, -1);
  return stem.join('') + ext;
}

// Formats that are already compressed: deflating them again costs CPU and saves nothing.
const STORED_TYPES = [
  /^image\//,
  /^video\//,
  /^audio\//,
  /^application\/(pdf|zip|gzip|x-gzip|x-7z-compressed|x-rar-compressed|x-bzip2|x-xz|zstd)$/,
  /^application\/vnd\.openxmlformats-officedocument\./,
  /^application\/vnd\.oasis\.opendocument\./,
  /^application\/epub\+zip$/,
];

/** True when an entry of this type should be stored rather than deflated. */
export function isStoredType(mimeType: string): boolean {
  return STORED_TYPES.some((pattern) => pattern.test(mimeType));
}

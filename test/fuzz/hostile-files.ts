import { constants, crc32, createDeflateRaw, deflateRawSync, deflateSync } from 'node:zlib';

export interface ZipEntrySource {
  name: string;
  /** Deflated data and its real uncompressed size and CRC (built by `deflated`/`repeated`). */
  deflated: Buffer;
  size: number;
  crc: number;
  /** The uncompressed size to claim in the headers (a lying archive claims less than it holds). */
  claimedSize?: number;
}

export function deflated(name: string, data: Buffer | string): ZipEntrySource {
  const bytes = Buffer.from(data);
  return {
    name,
    deflated: deflateRawSync(bytes, { level: constants.Z_BEST_SPEED }),
    size: bytes.length,
    crc: crc32(bytes),
  };
}

/**
 * `prefix` + `totalBytes` of one repeated byte + `suffix`, deflated as a stream (the whole
 * thing is never in memory): the payload of a decompression bomb.
 */
export async function repeated(
  name: string,
  prefix: string,
  fill: string,
  totalBytes: number,
  suffix: string,
): Promise<ZipEntrySource> {
  const deflater = createDeflateRaw({ level: constants.Z_BEST_COMPRESSION });
  const out: Buffer[] = [];
  deflater.on('data', (chunk: Buffer) => out.push(chunk));
  const done = new Promise((resolve) => deflater.on('end', resolve));
  const block = Buffer.alloc(1024 * 1024, fill);
  let crc = crc32(prefix);
  deflater.write(prefix);
  for (let written = 0; written < totalBytes; written += block.length) {
    const part = block.subarray(0, Math.min(block.length, totalBytes - written));
    crc = crc32(part, crc);
    if (!deflater.write(part)) await new Promise((r) => deflater.once('drain', r));
  }
  crc = crc32(suffix, crc);
  deflater.end(suffix);
  await done;
  return { name, deflated: Buffer.concat(out), size: prefix.length + totalBytes + suffix.length, crc };
}

/** A ZIP archive (deflate, no data descriptors) of `entries`, with the sizes they claim. */
export function zipOf(entries: ZipEntrySource[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = Buffer.from(e.name);
    const claimed = e.claimedSize ?? e.size;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(8, 8); // deflate
    local.writeUInt32LE(e.crc >>> 0, 14);
    local.writeUInt32LE(e.deflated.length, 18);
    local.writeUInt32LE(claimed, 22);
    local.writeUInt16LE(name.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(8, 10);
    central.writeUInt32LE(e.crc >>> 0, 16);
    central.writeUInt32LE(e.deflated.length, 20);
    central.writeUInt32LE(claimed, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, e.deflated);
    centrals.push(central, name);
    offset += local.length + name.length + e.deflated.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

const CONTENT_TYPES =
  '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">' +
  '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>' +
  '<Default Extension="xml" ContentType="application/xml"/>' +
  '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>';
const RELS =
  '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">' +
  '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>';
const DOC_OPEN =
  '<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>';
const DOC_CLOSE = '</w:t></w:r></w:p></w:body></w:document>';

/** A small, valid DOCX holding `text`. */
export function docxOf(text: string): Buffer {
  return zipOf([
    deflated('[Content_Types].xml', CONTENT_TYPES),
    deflated('_rels/.rels', RELS),
    deflated('word/document.xml', DOC_OPEN + text + DOC_CLOSE),
  ]);
}

/**
 * A DOCX whose document.xml inflates to `expandedBytes` of one letter (about 1000:1).
 * `lying`: the headers claim 1 kB, so only counting the inflated bytes catches it.
 */
export async function docxBomb(expandedBytes: number, lying = false): Promise<Buffer> {
  const document = await repeated('word/document.xml', DOC_OPEN, 'a', expandedBytes, DOC_CLOSE);
  if (lying) document.claimedSize = 1024;
  return zipOf([deflated('[Content_Types].xml', CONTENT_TYPES), deflated('_rels/.rels', RELS), document]);
}

/**
 * A one-page PDF whose content stream inflates to `operatorBytes` of drawing operators: valid
 * all the way, but parsing it takes far longer than any task timeout. No text is drawn, so the
 * parser does not pile up text items while it works.
 */
export function endlessPdf(operatorBytes: number): Buffer {
  const op = Buffer.from('0 0 m 1 1 l S\n');
  const content = deflateSync(Buffer.alloc(operatorBytes, op), { level: constants.Z_BEST_SPEED });
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>',
  ];
  const parts: Buffer[] = [Buffer.from('%PDF-1.4\n')];
  const offsets: number[] = [];
  let length = parts[0].length;
  const push = (chunk: Buffer) => (parts.push(chunk), (length += chunk.length));
  objects.forEach((body, i) => {
    offsets.push(length);
    push(Buffer.from(`${i + 1} 0 obj\n${body}\nendobj\n`));
  });
  offsets.push(length);
  push(Buffer.from(`4 0 obj\n<< /Length ${content.length} /Filter /FlateDecode >>\nstream\n`));
  push(content);
  push(Buffer.from('\nendstream\nendobj\n'));
  const xref = length;
  const table = offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('');
  push(
    Buffer.from(
      `xref\n0 5\n0000000000 65535 f \n${table}trailer\n<< /Size 5 /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`,
    ),
  );
  return Buffer.concat(parts);
}

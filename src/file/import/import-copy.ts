import { createHash } from 'node:crypto';
import { FileHandle } from 'node:fs/promises';
import { basename } from 'node:path';
import { pipeline, Transform, TransformCallback } from 'node:stream';
import { DataSource } from 'typeorm';
import { sniff, SNIFF_BYTES } from '../processing/mime-sniffer';
import { FileStorage } from '../storage/file-storage';

export interface ImportedFile {
  id: string;
  path: string;
  name: string;
  size: number;
  sha256: string;
  mimeType: string;
  encoding: string | null;
  storageKey: string;
}

/** SHA-256 of an open file, streamed from its start. */
export async function hashOpenFile(handle: FileHandle): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of handle.createReadStream({ start: 0, autoClose: false })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * Streams an open file into storage, hashing it again on the way (it must still be the file
 * that was hashed) and keeping the first bytes for the type sniffer. The id is derived from the
 * import task and the path, so a retry of the task overwrites its own copy instead of leaving
 * a second one.
 */
export async function copyIntoStorage(
  storage: FileStorage,
  file: { path: string; handle: FileHandle; sha256: string },
  owner: string,
  taskId: string,
  maxBytes: number,
): Promise<ImportedFile> {
  const id = derivedUuid(`${taskId}\0${file.path}`);
  const storageKey = `files/${owner}/${id}`;
  const meter = new CopyMeter(maxBytes);
  // pipeline passes a read error (or the size limit) on to put, which then keeps nothing.
  const source = pipeline(file.handle.createReadStream({ start: 0, autoClose: false }), meter, () => undefined);
  await storage.put(storageKey, source);
  const sha256 = meter.hash.digest('hex');
  if (sha256 !== file.sha256) {
    await storage.delete(storageKey);
    throw new Error('the file changed while it was being imported');
  }
  const head = Buffer.concat(meter.head);
  const name = basename(file.path).slice(0, 255);
  const sniffed = sniff(head, name, meter.bytes <= head.length);
  return {
    id,
    path: file.path,
    name,
    size: meter.bytes,
    sha256,
    mimeType: sniffed.mime,
    encoding: sniffed.encoding ?? null,
    storageKey,
  };
}

/** The file records and their import keys of one batch, in one short transaction. */
export async function insertImportedFiles(
  db: DataSource,
  files: ImportedFile[],
  owner: string,
  taskId: string,
): Promise<void> {
  if (files.length === 0) return;
  await db.transaction(async (manager) => {
    await manager.query(
      `INSERT INTO files (id, owner, original_name, size, sha256, mime_type, encoding, storage_key, status)
       SELECT id, $2, name, size, sha256, "mimeType", encoding, "storageKey", 'UPLOADED'
       FROM jsonb_to_recordset($1::jsonb) AS r(id uuid, name varchar, size bigint, sha256 char(64),
            "mimeType" varchar, encoding varchar, "storageKey" varchar)
       ON CONFLICT (id) DO NOTHING`,
      [JSON.stringify(files), owner],
    );
    await manager.query(
      `INSERT INTO file_imports (owner, source_path, sha256, file_id, task_id)
       SELECT $2, path, sha256, id, $3 FROM jsonb_to_recordset($1::jsonb) AS r(id uuid, path text, sha256 char(64))
       ON CONFLICT DO NOTHING`,
      [JSON.stringify(files), owner, taskId],
    );
  });
}

/** A UUID-shaped (version 8, "custom") id derived from `seed` with SHA-256. */
function derivedUuid(seed: string): string {
  const hex = createHash('sha256').update(seed).digest('hex');
  const variant = ((parseInt(hex[16], 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** Counts, hashes and keeps the sniffing head; fails past the upload size limit (a file that grew). */
class CopyMeter extends Transform {
  readonly hash = createHash('sha256');
  readonly head: Buffer[] = [];
  bytes = 0;
  private headBytes = 0;

  constructor(private readonly maxBytes: number) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.maxBytes)
      return callback(new Error(`larger than the upload limit of ${this.maxBytes} bytes`));
    this.hash.update(chunk);
    if (this.headBytes < SNIFF_BYTES) {
      const piece = chunk.subarray(0, SNIFF_BYTES - this.headBytes);
      this.head.push(piece);
      this.headBytes += piece.length;
    }
    callback(null, chunk);
  }
}

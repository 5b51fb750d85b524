import { Readable } from 'node:stream';

/**
 * Where file contents live. Keys are relative paths such as `files/<owner>/<id>`; an
 * implementation maps them to disk paths or object-store keys. Written as streams, so
 * uploads, ZIP exports and bulk imports never hold a whole file in memory.
 */
export interface FileStorage {
  /**
   * Writes `source` under `key`. The content becomes visible only when complete; if the
   * source fails (size limit, client gone) nothing is left behind and the error is rethrown.
   */
  put(key: string, source: Readable): Promise<void>;
  /**
   * A stream of the content, or of the inclusive byte `range` of it (HTTP Range downloads);
   * rejects with {@link StorageNotFoundError} when there is none.
   */
  open(key: string, range?: ByteRange): Promise<Readable>;
  /** The size in bytes of the content; rejects with {@link StorageNotFoundError} when there is none. */
  size(key: string): Promise<number>;
  /** The whole content (for the processing pipeline, which needs it all at once). */
  read(key: string): Promise<Buffer>;
  /** Removes the content; a missing key is not an error. */
  delete(key: string): Promise<void>;
  exists(key: string): Promise<boolean>;
  /**
   * Removes what a writer that died in the middle of `put(key)` left behind (a partial file on
   * disk, an unfinished multipart upload in an object store), so a retry starts clean.
   */
  removeIncomplete(key: string): Promise<void>;
}

/** Inclusive byte offsets, as in an HTTP `Range` header. */
export interface ByteRange {
  start: number;
  end: number;
}

export const FILE_STORAGE = Symbol('FileStorage');

export class StorageNotFoundError extends Error {
  override name = 'StorageNotFoundError';
}

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
  /** A stream of the content; rejects with {@link StorageNotFoundError} when there is none. */
  open(key: string): Promise<Readable>;
  /** The whole content (for the processing pipeline, which needs it all at once). */
  read(key: string): Promise<Buffer>;
  /** Removes the content; a missing key is not an error. */
  delete(key: string): Promise<void>;
  exists(key: string): Promise<boolean>;
}

export const FILE_STORAGE = Symbol('FileStorage');

export class StorageNotFoundError extends Error {
  override name = 'StorageNotFoundError';
}

import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ByteRange, FileStorage, StorageNotFoundError } from './file-storage';

const PARTIAL = '.partial-';
const READ_CHUNK = 256 * 1024;

/** {@link FileStorage} on a local directory (`STORAGE_DIR`). Writes go to a temporary name and are renamed when complete. */
export class LocalDiskStorage implements FileStorage {
  readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  async put(key: string, source: Readable): Promise<void> {
    const path = this.pathOf(key);
    await mkdir(dirname(path), { recursive: true });
    const partial = `${path}${PARTIAL}${randomBytes(4).toString('hex')}`;
    try {
      await pipeline(source, createWriteStream(partial, { flags: 'wx' }));
      await rename(partial, path);
    } catch (error) {
      await rm(partial, { force: true });
      throw error;
    }
  }

  async open(key: string, range?: ByteRange): Promise<Readable> {
    const path = this.pathOf(key);
    if (!(await this.exists(key))) throw new StorageNotFoundError(`No content stored under ${key}`);
    // 256 KiB reads: a quarter of the syscalls and stream callbacks of the 64 KiB default.
    return createReadStream(path, {
      highWaterMark: READ_CHUNK,
      ...(range ? { start: range.start, end: range.end } : {}),
    });
  }

  async size(key: string): Promise<number> {
    const found = await stat(this.pathOf(key)).catch(() => null);
    if (!found?.isFile()) throw new StorageNotFoundError(`No content stored under ${key}`);
    return found.size;
  }

  async removeIncomplete(key: string): Promise<void> {
    const path = this.pathOf(key);
    const prefix = `${basename(path)}${PARTIAL}`;
    const names = await readdir(dirname(path)).catch(() => [] as string[]);
    await Promise.all(
      names.filter((n) => n.startsWith(prefix)).map((n) => rm(join(dirname(path), n), { force: true })),
    );
  }

  async read(key: string): Promise<Buffer> {
    try {
      return await readFile(this.pathOf(key));
    } catch (error) {
      if (error.code === 'ENOENT') throw new StorageNotFoundError(`No content stored under ${key}`);
      throw error;
    }
  }

  async delete(key: string): Promise<void> {
    await rm(this.pathOf(key), { force: true });
  }

  async exists(key: string): Promise<boolean> {
    return stat(this.pathOf(key)).then(
      (s) => s.isFile(),
      () => false,
    );
  }

  /** Keys are made by the service, but a key that climbs out of the root is refused anyway. */
  private pathOf(key: string): string {
    const path = resolve(join(this.root, key));
    if (!path.startsWith(this.root + sep)) throw new Error(`Storage key ${key} is outside the storage root`);
    return path;
  }
}
